// Software supply chain: code and indicators of publicly documented compromises of packages and
// build tooling, for scans of CI artifacts, dependency folders and release tarballs. Every
// indicator below is quoted in the report named by the rule's reference; conditions combine
// several of them (or one that is unique to the attack) so that a benign file cannot match.
// Markdown, reStructuredText and AsciiDoc files (write-ups of these attacks) are left out.

rule Ring3_SupplyChain_FlatmapStream_Payload : supply_chain npm
{
    meta:
        id = "ring3.supplychain.flatmap_stream"
        description = "flatmap-stream 0.1.1 bootstrap payload (event-stream 3.3.6 compromise, 2018): decrypts and runs code keyed on npm_package_description"
        category = "supply-chain"
        severity = "critical"
        reference = "https://github.com/dominictarr/event-stream/issues/116"
        reference2 = "https://github.com/cncf/tag-security/blob/main/supply-chain-security/compromises/2018/event_stream.md"
        date = "2026-11-24"
        action = "Remove flatmap-stream and pin event-stream to 3.3.4; rebuild from a clean lock file and treat wallets or keys on machines that ran it as exposed."

    strings:
        // require(e("2e2f746573742f64617461")): the hex of "./test/data", the encrypted stage.
        $hex_test_data = "2e2f746573742f64617461"
        $hex_decode = /Buffer\.from\(\s*\w{1,32}\s*,\s*["']hex["']\s*\)\.toString\(\)/
        // The decrypted stage is compiled as a new module: f=new module.constructor;f.paths=module.paths
        $new_module = "new module.constructor"
        $module_paths = "module.paths"

    condition:
        filesize < 2MB and all of them
}

rule Ring3_SupplyChain_UaParserJs_2021 : supply_chain npm
{
    meta:
        id = "ring3.supplychain.ua_parser_js_2021"
        description = "ua-parser-js 0.7.29/0.8.0/1.0.0 preinstall dropper (October 2021): downloads the jsextension miner and sdd.dll password stealer"
        category = "supply-chain"
        severity = "critical"
        reference = "https://github.com/faisalman/ua-parser-js/issues/536"
        reference2 = "https://github.com/advisories/GHSA-pjwm-rvh2-c87w"
        date = "2026-11-24"
        action = "Upgrade ua-parser-js (0.7.30, 0.8.1, 1.0.1 or later), look for jsextension processes and files, and rotate every credential stored on machines that installed it."

    strings:
        $ip = "159.148.186.228"
        $domain = "citationsherbe.at"
        $payload1 = "jsextension"
        $payload2 = "sdd.dll"
        $payload3 = "create.dll"

    condition:
        filesize < 1MB and
        ($ip or $domain) and any of ($payload*) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_NodeIpc_Protestware_2022 : supply_chain npm
{
    meta:
        id = "ring3.supplychain.node_ipc_2022"
        description = "node-ipc 10.1.1-10.1.2 ssl-geospec.js (CVE-2022-23812): overwrites files with a heart on machines geolocated to Russia or Belarus"
        category = "supply-chain"
        severity = "critical"
        reference = "https://nvd.nist.gov/vuln/detail/CVE-2022-23812"
        reference2 = "https://gist.github.com/MidSpike/f7ae3457420af78a54b38a31cc0c809c"
        date = "2026-11-24"
        action = "Pin node-ipc to 9.2.1 (or a later clean release), remove the package from affected builds and restore overwritten files from backup."

    strings:
        // The geolocation service with the attacker's API key, plain and base64-encoded.
        $geo = "api.ipgeolocation.io/ipgeo?apiKey=ae511e1627824a968aaaa758a5309154"
        $geo_b64 = "aHR0cHM6Ly9hcGkuaXBnZW9sb2NhdGlvbi5pby9pcGdlbz9hcGlLZXk9YWU1MTFlMTYyNzgyNGE5NjhhYWFhNzU4YTUzMDkxNTQ="
        // Buffer.from("cnVzc2lh","base64") = "russia", "YmVsYXJ1cw==" = "belarus", "Y291bnRyeV9uYW1l" = "country_name".
        $ru_b64 = "\"cnVzc2lh\""
        $by_b64 = "\"YmVsYXJ1cw==\""
        $country_b64 = "\"Y291bnRyeV9uYW1l\""
        $ru = "\"russia\""
        $by = "\"belarus\""

    condition:
        filesize < 1MB and
        ($geo or $geo_b64) and (($ru_b64 and $by_b64) or ($ru and $by) or $country_b64) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_Peacenotwar_2022 : supply_chain npm
{
    meta:
        id = "ring3.supplychain.peacenotwar_2022"
        description = "peacenotwar protestware pulled in by node-ipc 11.x (2022): writes WITH-LOVE-FROM-AMERICA.txt to the user's desktop"
        category = "supply-chain"
        severity = "medium"
        reference = "https://nvd.nist.gov/vuln/detail/CVE-2022-23812"
        reference2 = "https://github.com/RIAEvangelist/peacenotwar"
        date = "2026-11-24"
        action = "Pin node-ipc to a release without peacenotwar (9.2.1) and remove the package; delete WITH-LOVE-FROM-AMERICA.txt files it wrote."

    strings:
        $file = "WITH-LOVE-FROM-AMERICA.txt"
        $func = "deliverAPeacefulMessage"

    condition:
        filesize < 1MB and all of them and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_XZ_BuildToHost_CVE_2024_3094 : supply_chain linux
{
    meta:
        id = "ring3.supplychain.xz_build_to_host"
        description = "xz-utils 5.6.0/5.6.1 backdoor stage 0 (CVE-2024-3094): the malicious build-to-host.m4 or configure code that extracts the payload from the test files"
        category = "supply-chain"
        severity = "critical"
        reference = "https://www.openwall.com/lists/oss-security/2024/03/29/4"
        reference2 = "https://research.swtch.com/xz-script"
        reference3 = "https://nvd.nist.gov/vuln/detail/CVE-2024-3094"
        date = "2026-11-24"
        action = "Do not build from this source tree: use xz 5.4.x or 5.6.2+ from a clean tarball, and rebuild anything built from it."

    strings:
        // build-to-host.m4: find the carrier file, then sed "r\n" | tr ... | xz -d
        $find_carrier = "grep -aErls \"#{4}[[:alnum:]]{5}#{4}$\" $srcdir/"
        $path_map = "gl_path_map='tr \"\\t \\-_\" \" \\t_\\-\"'"
        $extract = "$gl_am_configmake | eval $gl_path_map | $gl_[$1]_prefix -d"
        // The stage 1 script extracted from bad-3-corrupt_lzma2.xz, and stage 2.
        $stage1 = "/bad-3-corrupt_lzma2.xz | tr "
        $stage2 = "/tests/files/good-large_compressed.lzma|eval $i|tail -c +31265|"

    condition:
        filesize < 5MB and
        (2 of ($find_carrier, $path_map, $extract) or $stage1 or $stage2) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_XZ_Liblzma_Backdoor_CVE_2024_3094 : supply_chain linux
{
    meta:
        id = "ring3.supplychain.xz_liblzma_backdoor"
        description = "liblzma built from backdoored xz-utils 5.6.0/5.6.1 (CVE-2024-3094): code of the injected object that hooks RSA_public_decrypt in sshd"
        category = "supply-chain"
        severity = "critical"
        reference = "https://www.openwall.com/lists/oss-security/2024/03/29/4"
        reference2 = "https://github.com/Neo23x0/signature-base/blob/master/yara/bkdr_xz_util_cve_2024_3094.yar"
        date = "2026-11-24"
        action = "Downgrade or upgrade xz/liblzma to a clean release (5.4.x or 5.6.2+), restart sshd and treat the host as possibly compromised."

    strings:
        $op1 = { 48 8d 7c 24 08 f3 ab 48 8d 44 24 08 48 89 d1 4c 89 c7 48 89 c2 e8 ?? ?? ?? ?? 89 c2 }
        $op2 = { 31 c0 49 89 ff b9 16 00 00 00 4d 89 c5 48 8d 7c 24 48 4d 89 ce f3 ab 48 8d 44 24 48 }
        $op3 = { 4d 8b 6c 24 08 45 8b 3c 24 4c 8b 63 10 89 85 78 f1 ff ff 31 c0 83 bd 78 f1 ff ff 00 f3 ab 79 07 }
        $xc1 = { f3 0f 1e fa 55 48 89 f5 4c 89 ce 53 89 fb 81 e7 00 00 00 80 48 83 ec 28 48 89 54 24 18 48 89 4c 24 10 }

    condition:
        uint32(0) == 0x464c457f and filesize < 10MB and (all of ($op*) or $xc1)
}

rule Ring3_SupplyChain_Codecov_BashUploader_2021 : supply_chain ci
{
    meta:
        id = "ring3.supplychain.codecov_bash_uploader"
        description = "Codecov Bash Uploader compromise (January-April 2021): the injected line that posts git remotes and the whole CI environment to the attacker"
        category = "supply-chain"
        severity = "critical"
        reference = "https://about.codecov.io/security-update/"
        date = "2026-11-24"
        action = "Replace the uploader with a verified copy and rotate every secret that was in the CI environment where this script ran."

    strings:
        $exfil = "$(git remote -v)<<<<<< ENV $(env)"

    condition:
        filesize < 2MB and $exfil and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_SolarWinds_Sunburst : supply_chain windows
{
    meta:
        id = "ring3.supplychain.solarwinds_sunburst"
        description = "SUNBURST backdoor in SolarWinds.Orion.Core.BusinessLayer.dll (2020): FNV-1a XOR key with the compressed command regex, or the fake Orion event strings"
        category = "supply-chain"
        severity = "critical"
        reference = "https://www.fireeye.com/blog/threat-research/2020/12/evasive-attacker-leverages-solarwinds-supply-chain-compromises-with-sunburst-backdoor.html"
        reference2 = "https://github.com/fireeye/sunburst_countermeasures"
        date = "2026-11-24"
        action = "Isolate the Orion server, follow CISA ED 21-01 guidance, upgrade Orion and assume credentials it held are compromised."

    strings:
        $fnv_xor = { 67 19 D8 A7 3B 90 AC 5B }
        // Deflate+base64 strings decoded at run time (FireEye's countermeasure indicators).
        $cmd_regex = "U4qpjjbQtUzUTdONrTY2q42pVapRgooABYxQuIZmtUoA" wide
        $event_type = "U3ItS80rCaksSFWyUvIvyszPU9IBAA==" wide
        $event_name = "U3ItS80r8UvMTVWyUgKzfRPzEtNTi5R0AA==" wide
        $message = "U/JNLS5OTE9VslKqNqhVAgA=" wide

    condition:
        uint16(0) == 0x5A4D and filesize < 20MB and
        (($fnv_xor and $cmd_regex) or ($event_type and $event_name and $message))
}

rule Ring3_SupplyChain_3CX_SuddenIcon_2023 : supply_chain windows
{
    meta:
        id = "ring3.supplychain.3cx_suddenicon"
        description = "3CX DesktopApp compromise (March 2023): SUDDENICON loader that fetches encrypted C2 addresses from icon files on GitHub"
        category = "supply-chain"
        severity = "critical"
        reference = "https://www.elastic.co/security-labs/elastic-users-protected-from-suddenicon-supply-chain-attack"
        reference2 = "https://github.com/elastic/protections-artifacts/blob/main/yara/rules/Windows_Trojan_SuddenIcon.yar"
        date = "2026-11-24"
        action = "Uninstall the affected 3CX DesktopApp build (18.12.407/416 Windows, 18.11.1213/18.12.402/407/416 macOS), install the vendor's fixed release and investigate the host."

    strings:
        $icon_url = "https://raw.githubusercontent.com/IconStorages/images/main/icon%d.ico" wide
        $cookie_a = "__tutma" fullword
        $cookie_c = "__tutmc" fullword

    condition:
        uint16(0) == 0x5A4D and filesize < 20MB and $icon_url and ($cookie_a or $cookie_c)
}

rule Ring3_SupplyChain_TjActions_ChangedFiles_2025 : supply_chain ci github_actions
{
    meta:
        id = "ring3.supplychain.tj_actions_memdump"
        description = "tj-actions/changed-files compromise (CVE-2025-30066): payload that dumps the GitHub Actions runner's memory with memdump.py and prints the secrets to the log"
        category = "supply-chain"
        severity = "critical"
        reference = "https://nvd.nist.gov/vuln/detail/CVE-2025-30066"
        reference2 = "https://www.stepsecurity.io/blog/harden-runner-detection-tj-actions-changed-files-action-is-compromised"
        date = "2026-11-24"
        action = "Stop using the compromised action revision (pin actions by commit SHA), check workflow logs from 14-15 March 2025 for double-base64 blobs and rotate every secret those workflows could read."

    strings:
        // The gist hosting memdump.py, plain or inside base64 (the action carried it encoded).
        $gist = "gist.githubusercontent.com/nikitastupin/30e525b776c409e03c2d6f328f254965"
        $gist_b64 = "nikitastupin/30e525b776c409e03c2d6f328f254965" base64
        $secret_re = "\":\\{\"value\":\"[^\"]*\",\"isSecret\":true\\}"
        $secret_re_b64 = "\"isSecret\":true" base64
        $memdump = "memdump.py | sudo python3"
        $memdump_b64 = "memdump.py | sudo python3" base64

    condition:
        filesize < 10MB and
        ($gist or $gist_b64) and ($secret_re or $secret_re_b64 or $memdump or $memdump_b64) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_ShaiHulud_2025 : supply_chain npm worm
{
    meta:
        id = "ring3.supplychain.shai_hulud"
        description = "Shai-Hulud npm worm (September 2025): bundle.js or its GitHub Actions workflow posting toJSON(secrets) to the attacker's webhook.site endpoint"
        category = "supply-chain"
        severity = "critical"
        reference = "https://www.wiz.io/blog/shai-hulud-npm-supply-chain-attack"
        reference2 = "https://www.stepsecurity.io/blog/ctrl-tinycolor-and-40-npm-packages-compromised"
        date = "2026-11-24"
        action = "Remove the compromised package versions, delete shai-hulud workflows and branches, rotate npm, GitHub and cloud credentials, and check for repositories named Shai-Hulud."

    strings:
        $webhook = "webhook.site/bb8ca5f6-4175-45d2-b042-fc9ebb8170b7"
        // .github/workflows/shai-hulud-workflow.yml
        $secrets = "${{ toJSON(secrets) }}"
        $double_b64 = "base64 -w 0 | base64 -w 0"
        $workflow_name = "shai-hulud-workflow.yml"

    condition:
        // The webhook token is unique to the attacker; the workflow strings alone are not enough.
        filesize < 10MB and
        $webhook and ($secrets or $double_b64 or $workflow_name or filesize > 512KB) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_ShaiHulud_SecondComing_2025 : supply_chain npm worm
{
    meta:
        id = "ring3.supplychain.shai_hulud_2"
        description = "Shai-Hulud 2.0 ('Sha1-Hulud: The Second Coming', November 2025): setup_bun.js preinstall hook or the SHA1HULUD self-hosted runner workflow"
        category = "supply-chain"
        severity = "critical"
        reference = "https://github.com/DataDog/indicators-of-compromise/tree/main/shai-hulud-2.0"
        reference2 = "https://www.wiz.io/blog/shai-hulud-2-0-ongoing-supply-chain-attack"
        date = "2026-11-24"
        action = "Remove the compromised package versions, delete the discussion.yaml workflow and any SHA1HULUD runner, and rotate npm, GitHub and cloud credentials."

    strings:
        $preinstall = /"preinstall"\s*:\s*"node setup_bun\.js"/
        $description = "Sha1-Hulud: The Second Coming"
        $runner = /runs-on:\s*\[?\s*self-hosted[^\n]{0,40}\n?[^\n]{0,40}SHA1HULUD/

    condition:
        filesize < 20MB and
        ($preinstall or ($description and $runner)) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_Chalk_Debug_Drainer_2025 : supply_chain npm
{
    meta:
        id = "ring3.supplychain.chalk_debug_drainer"
        description = "Crypto-drainer injected into chalk, debug and 16 other npm packages (8 September 2025): hooks window.ethereum and fetch/XMLHttpRequest to swap wallet addresses"
        category = "supply-chain"
        severity = "critical"
        reference = "https://www.aikido.dev/blog/npm-debug-and-chalk-packages-compromised"
        reference2 = "https://socket.dev/blog/npm-author-qix-compromised-in-major-supply-chain-attack"
        date = "2026-11-24"
        action = "Reinstall from a lock file that resolves to clean versions, clear caches, rebuild and redeploy every front-end bundle built on 8-9 September 2025."

    strings:
        $window = "typeof window"
        $xhr = "XMLHttpRequest"
        // The bech32 charset used to forge look-alike bitcoin addresses.
        $bech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
        $f1 = "checkethereumw()"
        $f2 = "runmask()"
        $f3 = "newdlocal("
        $f4 = "stealthProxyControl"
        $c1 = "bitcoinLegacy"
        $c2 = "bitcoinSegwit"

    condition:
        filesize < 10MB and
        $window and $xhr and $bech32 and any of ($f*) and any of ($c*) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_InstallScript_PipeToShell : supply_chain npm
{
    meta:
        id = "ring3.supplychain.install_script_pipe_to_shell"
        description = "package.json install hook (preinstall/install/postinstall) that downloads a script with curl or wget and pipes it into a shell"
        category = "supply-chain"
        severity = "high"
        reference = "https://docs.npmjs.com/cli/v10/using-npm/scripts"
        reference2 = "https://github.com/advisories/GHSA-pjwm-rvh2-c87w"
        date = "2026-11-24"
        action = "Find out what the hook downloads before installing; install with --ignore-scripts, and remove the package if the script is not the publisher's documented installer."

    strings:
        $hook = /"(pre|post)?install"\s*:\s*"[^"\n]{0,300}\b(curl|wget)\s[^"\n]{0,300}\|\s*(sudo\s+)?(ba|da|z)?sh\b/
        // A package manifest: "name" and a "scripts" object (package-lock.json has no scripts).
        $name = /"name"\s*:\s*"/
        $scripts = /"scripts"\s*:\s*\{/

    condition:
        filesize < 1MB and $hook and $scripts and $name
}

rule Ring3_SupplyChain_CI_Secret_Exfiltration : supply_chain ci credential_theft
{
    meta:
        id = "ring3.supplychain.ci_secret_exfiltration"
        description = "Script that serialises the whole environment (CI secrets and tokens) and sends it to a request-capture service, as in the Codecov, Shai-Hulud and GitHub Actions attacks"
        category = "credential-theft"
        severity = "high"
        reference = "https://about.codecov.io/security-update/"
        reference2 = "https://www.wiz.io/blog/shai-hulud-npm-supply-chain-attack"
        date = "2026-11-24"
        action = "Find which package or workflow ships this file, remove it, and rotate every secret available to the jobs that ran it."

    strings:
        $env_js = "JSON.stringify(process.env)"
        $env_sh1 = "$(env)"
        $env_sh2 = "$(printenv)"
        $env_sh3 = "`env`"
        $env_py1 = "dict(os.environ)"
        $env_py2 = "json.dumps(os.environ"
        $sink1 = "webhook.site/"
        $sink2 = /[a-z0-9]{20,40}\.oastify\.com/
        $sink3 = /[a-z0-9]{20,40}\.burpcollaborator\.net/
        $sink4 = /[a-z0-9]{8,40}\.m\.pipedream\.net/
        $sink5 = /[a-z0-9]{20,40}\.oast\.(fun|pro|live|site|online|me)/
        $sink6 = /[a-z0-9]{20,40}\.interact\.sh/

    condition:
        filesize < 2MB and any of ($env*) and any of ($sink*) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_Install_Hook_Credential_Exfil : supply_chain npm credential_theft
{
    meta:
        id = "ring3.supplychain.install_hook_credential_exfil"
        author = "ring3"
        description = "package.json install hook (preinstall/install/postinstall) whose command itself reads secrets (.npmrc, SSH keys, the environment) and sends them out (curl, wget, an HTTP request, a DNS lookup)"
        category = "credential-theft"
        severity = "critical"
        reference = "https://github.com/advisories/GHSA-hxxf-q3w9-4xgw"
        reference2 = "https://eslint.org/blog/2018/07/postmortem-for-malicious-package-publishes"
        reference3 = "https://docs.npmjs.com/cli/v10/using-npm/scripts"
        date = "2026-12-03"
        action = "Do not install the package (or install with --ignore-scripts); if it was installed, revoke npm tokens, SSH keys and every secret that was in the environment, and remove the package."

    strings:
        // The hook's JSON string (escaped quotes included): a secret read, then a send, or the reverse.
        $read_send = /"(pre|post)?install"\s*:\s*"([^"\\\n]|\\.){0,400}(\.npmrc|\.ssh\/|id_rsa|process\.env\)|JSON\.stringify\(process\.env|\$\(env\)|\$\(printenv\)|\benv\s*\|)([^"\\\n]|\\.){0,400}(\bcurl\s|\bwget\s|https?['"\\]{0,2}\)\.(get|request)\(|fetch\(|nslookup\s)/
        $send_read = /"(pre|post)?install"\s*:\s*"([^"\\\n]|\\.){0,400}(\bcurl\s|\bwget\s|https?['"\\]{0,2}\)\.(get|request)\(|fetch\()([^"\\\n]|\\.){0,300}(\.npmrc|\.ssh\/|id_rsa|process\.env\)|JSON\.stringify\(process\.env|\$\(env\)|\$\(printenv\))/
        $name = /"name"\s*:\s*"/
        $scripts = /"scripts"\s*:\s*\{/

    condition:
        filesize < 1MB and ($read_send or $send_read) and $scripts and $name
}

rule Ring3_SupplyChain_JS_Credential_Stealer : supply_chain npm credential_theft
{
    meta:
        id = "ring3.supplychain.js_credential_stealer"
        author = "ring3"
        description = "Node.js script (the kind an install hook runs) that reads several developer secrets from the home folder (.npmrc auth token, SSH private keys, cloud and git credentials) and sends them over the network"
        category = "credential-theft"
        severity = "critical"
        reference = "https://github.com/advisories/GHSA-hxxf-q3w9-4xgw"
        reference2 = "https://www.wiz.io/blog/shai-hulud-npm-supply-chain-attack"
        reference3 = "https://eslint.org/blog/2018/07/postmortem-for-malicious-package-publishes"
        date = "2026-12-03"
        action = "Remove the package that ships this file; revoke npm tokens, SSH keys and cloud credentials of every machine and CI job that ran it."

    strings:
        $home = /os\.homedir\(\)|process\.env\.(HOME|USERPROFILE)\b|require\(["']os["']\)\.homedir\(\)/
        // Secrets, each as a path or a path.join() of its parts.
        $secret_npmrc = ".npmrc"
        $secret_token = "_authToken"
        $secret_ssh = /\.ssh["']?\s*(,\s*["']|[\/\\]{1,2})(id_rsa|id_ed25519|id_ecdsa|id_dsa)/
        $secret_aws = /\.aws["']?\s*(,\s*["']|[\/\\]{1,2})credentials/
        $secret_git = ".git-credentials"
        $secret_docker = /\.docker["']?\s*(,\s*["']|[\/\\]{1,2})config\.json/
        $secret_kube = /\.kube["']?\s*(,\s*["']|[\/\\]{1,2})config\b/
        // Sends: Node's http(s) client, fetch to an absolute URL, raw sockets, DNS.
        $send1 = /\bhttps?\.(request|get)\s*\(/
        $send2 = /fetch\(\s*["'`]https?:\/\//
        $send3 = /\bnet\.(connect|createConnection)\s*\(/
        $send4 = /\bdns\.(resolve|lookup)\w{0,8}\s*\(/

    condition:
        filesize < 2MB and $home and 3 of ($secret*) and any of ($send*) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_SupplyChain_SetupPy_Credential_Exfil : supply_chain pypi credential_theft
{
    meta:
        id = "ring3.supplychain.setup_py_credential_exfil"
        author = "ring3"
        description = "Python setup script (run by pip at install) that collects the environment or developer secrets (SSH keys, cloud, npm or git credentials) and sends them over the network"
        category = "credential-theft"
        severity = "critical"
        reference = "https://mail.python.org/pipermail/security-announce/2017-September/000000.html"
        reference2 = "https://github.com/dateutil/dateutil/issues/984"
        reference3 = "https://blog.phylum.io/python-package-installation-attacks/"
        date = "2026-12-03"
        action = "Do not install the package; if it was installed, revoke SSH keys, cloud and package-registry credentials and every secret that was in the environment, and report it to PyPI."

    strings:
        $setup_import = /from\s+(setuptools|distutils\.core)\s+import\s[^\r\n]{0,80}\bsetup\b/
        $setup_call = /\bsetup\s*\(/
        // The whole environment, or a secret file.
        $secret_env1 = /dict\(\s*os\.environ\s*\)/
        $secret_env2 = "os.environ.items()"
        $secret_env3 = /json\.dumps\(\s*(dict\()?\s*os\.environ\b/
        $secret_env4 = /str\(\s*os\.environ\s*\)/
        $secret_ssh = /\.ssh["']?\s*(,\s*["']|[\/\\]{1,2})(id_rsa|id_ed25519|id_ecdsa|id_dsa)/
        $secret_aws = /\.aws["']?\s*(,\s*["']|[\/\\]{1,2})credentials/
        $secret_npmrc = ".npmrc"
        $secret_git = ".git-credentials"
        // Sends.
        $send1 = /\burlopen\s*\(/
        $send2 = /\brequests\.(post|put|get)\s*\(/
        $send3 = /\bhttp\.client\.HTTPS?Connection\s*\(/
        $send4 = /\.connect\s*\(\s*\(\s*["'][^"']{1,100}["']\s*,\s*\d{1,5}\s*\)\s*\)/
        $send5 = /os\.system\s*\(\s*[^\r\n]{0,80}\b(curl|wget)\s/

    condition:
        filesize < 1MB and $setup_import and $setup_call and any of ($secret*) and any of ($send*) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}
