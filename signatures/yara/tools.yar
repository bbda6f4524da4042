// Tools and payloads: coin miners, credential dumpers, post-exploitation frameworks and
// ransomware. Binary rules require the executable's magic plus several strings or code sequences
// that only the tool has (its own module names, format strings, shellcode); documentation that
// names the tool or its commands does not match.

rule Ring3_Tool_XMRig_Config : miner
{
    meta:
        id = "ring3.tool.xmrig_config"
        description = "XMRig miner configuration (config.json with donate-level and a pools list)"
        category = "miner"
        severity = "medium"
        reference = "https://xmrig.com/docs/miner/config"
        reference2 = "https://attack.mitre.org/techniques/T1496/"
        date = "2026-11-24"
        action = "If nobody here runs XMRig on purpose, find the process and how it was installed (cron, service, container image), remove it and look for the initial access."

    strings:
        $donate = /"donate-level"\s*:\s*\d/
        $pools = /"pools"\s*:\s*\[/
        $url = /"url"\s*:\s*"(stratum\+(tcp|ssl|tls):\/\/)?[A-Za-z0-9.\-]{1,100}:\d{2,5}"/
        $k1 = /"rig-id"\s*:/
        $k2 = /"randomx"\s*:\s*\{/
        $k3 = /"nicehash"\s*:\s*(true|false)/
        $k4 = /"keepalive"\s*:\s*(true|false)/
        $k5 = /"donate-over-proxy"\s*:/

    condition:
        filesize < 1MB and $donate and $pools and $url and 2 of ($k*) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Tool_XMRig_Binary : miner
{
    meta:
        id = "ring3.tool.xmrig_binary"
        description = "XMRig cryptocurrency miner executable"
        category = "miner"
        severity = "medium"
        reference = "https://github.com/xmrig/xmrig"
        reference2 = "https://attack.mitre.org/techniques/T1496/"
        date = "2026-11-24"
        action = "If nobody here runs XMRig on purpose, find the process and how it was installed (cron, service, container image), remove it and look for the initial access."

    strings:
        $donate_host = "donate.v2.xmrig.com"
        $opt_donate = "--donate-level"
        $name = "XMRig" fullword
        $stratum = "stratum+tcp://"

    condition:
        (uint16(0) == 0x5A4D or uint32(0) == 0x464C457F or uint32(0) == 0xFEEDFACE or uint32(0) == 0xFEEDFACF or uint32(0) == 0xCEFAEDFE or uint32(0) == 0xCFFAEDFE or uint32(0) == 0xBEBAFECA) and $donate_host and $opt_donate and ($name or $stratum)
}

rule Ring3_Tool_Miner_Command_Monero_Wallet : miner
{
    meta:
        id = "ring3.tool.miner_command_monero"
        description = "Coin-miner command line: a pool address (stratum URL or -o host:port) with a Monero wallet as the user"
        category = "miner"
        severity = "high"
        reference = "https://xmrig.com/docs/miner/command-line-options"
        reference2 = "https://github.com/faisalman/ua-parser-js/issues/536"
        date = "2026-11-24"
        action = "Find what runs this command (cron, rc file, container entrypoint, install script), remove it and look for how it got there."

    strings:
        $stratum = /stratum\+(tcp|ssl|tls):\/\/[A-Za-z0-9.\-]{1,100}:\d{2,5}/
        $pool_opt = /\s(-o |-o=|--url[ =])[A-Za-z0-9.\-]{1,100}:\d{2,5}\s/
        // A standard Monero address (95 base58 characters starting with 4, 8 for subaddresses) given
        // as the user: -u W, --user=W, "user": "W" (the option is the matcher's atom; the address
        // alone has none).
        $wallet = /(\s-u(\s+|\s*=\s*)|--user(\s+|\s*=\s*)|"user"\s*:\s*)["']?[48][1-9A-HJ-NP-Za-km-z]{94}(\s|"|'|\.|$)/

    condition:
        filesize < 2MB and ($stratum or $pool_opt) and $wallet and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Tool_Mimikatz_Binary : credential_dumper windows
{
    meta:
        id = "ring3.tool.mimikatz"
        description = "Mimikatz credential dumper (gentilkiwi): executable or DLL with its sekurlsa/lsadump command tables"
        category = "credential-dumper"
        severity = "critical"
        reference = "https://github.com/gentilkiwi/mimikatz"
        reference2 = "https://attack.mitre.org/software/S0002/"
        date = "2026-11-24"
        action = "Treat the host as compromised: isolate it, reset the passwords of accounts that logged on to it (and krbtgt twice if it is a domain controller)."

    strings:
        $author = "gentilkiwi" wide ascii
        $m1 = "sekurlsa" wide fullword
        $m2 = "logonPasswords" wide fullword
        $m3 = "lsadump" wide fullword
        $m4 = "mimikatz" wide fullword
        $m5 = "Lists all available providers credentials" wide

    condition:
        uint16(0) == 0x5A4D and filesize < 10MB and $author and 3 of ($m*)
}

rule Ring3_Tool_Invoke_Mimikatz : credential_dumper powershell
{
    meta:
        id = "ring3.tool.invoke_mimikatz"
        description = "Invoke-Mimikatz (PowerSploit): PowerShell that reflectively loads an embedded mimikatz DLL"
        category = "credential-dumper"
        severity = "critical"
        reference = "https://github.com/PowerShellMafia/PowerSploit/blob/master/Exfiltration/Invoke-Mimikatz.ps1"
        reference2 = "https://attack.mitre.org/software/S0002/"
        date = "2026-11-24"
        action = "Treat the host as compromised: isolate it, reset the passwords of accounts that logged on to it, and find how the script got there."

    strings:
        $func = "Invoke-Mimikatz" nocase ascii wide
        $pe64 = /\$PEBytes64\s*=\s*["']TVqQ/ ascii wide
        $pe32 = /\$PEBytes32\s*=\s*["']TVqQ/ ascii wide
        $call = "@($PEBytes64, $PEBytes32," ascii wide

    condition:
        filesize < 10MB and $func and ($pe64 or $pe32) and ($call or ($pe64 and $pe32))
}

rule Ring3_Tool_CobaltStrike_Beacon : c2 windows
{
    meta:
        id = "ring3.tool.cobaltstrike_beacon"
        description = "Cobalt Strike Beacon payload: its own error and format strings (run-as, spawn, SMB mode, date format)"
        category = "post-exploitation"
        severity = "critical"
        reference = "https://github.com/elastic/protections-artifacts/blob/main/yara/rules/Windows_Trojan_CobaltStrike.yar"
        reference2 = "https://attack.mitre.org/software/S0154/"
        date = "2026-11-24"
        action = "Treat the host as compromised: isolate it, find the beacon's C2 (its configuration) and how it was started, and hunt for it on other hosts."

    strings:
        $s1 = "%s as %s\\%s: %d" ascii
        $s2 = "could not spawn %s (token): %d" ascii
        $s3 = "could not open process %d: %d" ascii
        $s4 = "could not run %s as %s\\%s: %d" ascii
        $s5 = "kerberos ticket use failed:" ascii
        $s6 = "Started service %s on %s" ascii
        $s7 = "I'm already in SMB mode" ascii
        $s8 = "%02d/%02d/%02d %02d:%02d:%02d" ascii
        $dll1 = "beacon.dll" ascii
        $dll2 = "beacon.x64.dll" ascii

    condition:
        filesize < 10MB and (uint16(0) == 0x5A4D or any of ($dll*)) and 4 of ($s*)
}

rule Ring3_Tool_Meterpreter_DLL : c2 windows
{
    meta:
        id = "ring3.tool.metasploit_meterpreter"
        description = "Metasploit Meterpreter server DLL (metsrv) with its reflective loader, as written by stageless payloads"
        category = "post-exploitation"
        severity = "critical"
        reference = "https://github.com/elastic/protections-artifacts/blob/main/yara/rules/Windows_Trojan_Metasploit.yar"
        reference2 = "https://www.rapid7.com/blog/post/2015/03/25/stageless-meterpreter-payloads/"
        date = "2026-11-24"
        action = "Treat the host as compromised: isolate it, find the handler address and how the payload was started, and hunt for it on other hosts."

    strings:
        $metsrv1 = "metsrv.dll" fullword
        $metsrv2 = "metsrv.x64.dll" fullword
        $loader = "ReflectiveLoader"
        $packet = "PACKET TRANSMIT" fullword

    condition:
        uint16(0) == 0x5A4D and filesize < 10MB and any of ($metsrv*) and ($loader or $packet)
}

rule Ring3_Tool_Metasploit_BlockApi_Shellcode : shellcode windows
{
    meta:
        id = "ring3.tool.metasploit_block_api"
        description = "Windows shellcode using Metasploit's block_api (PEB walk and ROR-13 API hashing), as in msfvenom and Cobalt Strike stagers"
        category = "post-exploitation"
        severity = "high"
        reference = "https://github.com/rapid7/metasploit-framework/blob/master/external/source/shellcode/windows/x86/src/block/block_api.asm"
        reference2 = "https://github.com/elastic/protections-artifacts/blob/main/yara/rules/Windows_Trojan_Metasploit.yar"
        date = "2026-11-24"
        action = "Find what carries this shellcode (loader executable, script, document) and the address it connects to; treat hosts that ran it as compromised."

    strings:
        $x86_a = { 60 89 E5 31 C0 64 8B 50 30 8B 52 0C 8B 52 14 8B 72 28 0F B7 4A 26 31 FF AC 3C 61 7C 02 2C 20 }
        $x86_b = { 89 E5 31 D2 64 8B 52 30 8B 52 0C 8B 52 14 8B 72 28 0F B7 4A 26 31 FF 31 C0 AC 3C 61 }
        $x64_a = { 48 31 D2 65 48 8B 52 60 48 8B 52 18 48 8B 52 20 48 8B 72 50 48 0F B7 4A 4A 4D 31 C9 48 31 C0 AC 3C 61 }
        $x64_b = { FC 48 83 E4 F0 E8 CC 00 00 00 41 51 41 50 52 48 31 D2 51 65 48 8B 52 60 48 8B 52 18 48 8B 52 20 }

    condition:
        filesize < 20MB and any of them
}

rule Ring3_Tool_Sliver_Implant : c2
{
    meta:
        id = "ring3.tool.sliver_implant"
        description = "Sliver C2 implant or server built without symbol obfuscation (Go packages of github.com/bishopfox/sliver)"
        category = "post-exploitation"
        severity = "critical"
        reference = "https://www.microsoft.com/en-us/security/blog/2022/08/24/looking-for-the-sliver-lining-hunting-for-emerging-command-and-control-frameworks/"
        reference2 = "https://github.com/BishopFox/sliver"
        date = "2026-11-24"
        action = "Unless this is an authorised red-team binary, treat the host as compromised: isolate it, find the C2 address and how the implant was started."

    strings:
        $pb = "github.com/bishopfox/sliver/protobuf/sliverpb"
        $implant = "github.com/bishopfox/sliver/implant/sliver/"

    condition:
        (uint16(0) == 0x5A4D or uint32(0) == 0x464C457F or uint32(0) == 0xFEEDFACE or uint32(0) == 0xFEEDFACF or uint32(0) == 0xCEFAEDFE or uint32(0) == 0xCFFAEDFE or uint32(0) == 0xBEBAFECA) and $pb and $implant
}

rule Ring3_Tool_WannaCry_Ransomware : ransomware windows
{
    meta:
        id = "ring3.tool.wannacry"
        description = "WannaCry (WanaCrypt0r) ransomware: the dropper's zip password with its components and commands"
        category = "ransomware"
        severity = "critical"
        reference = "https://www.cisa.gov/news-events/alerts/2017/05/12/indicators-associated-wannacry-ransomware"
        reference2 = "https://www.microsoft.com/en-us/security/blog/2017/05/12/wannacrypt-ransomware-worm-targets-out-of-date-systems/"
        date = "2026-11-24"
        action = "Isolate the host at once, apply MS17-010 on the network, restore encrypted files from backup and do not pay."

    strings:
        $password = "WNcry@2ol7"
        $c1 = "tasksche.exe"
        $c2 = "icacls . /grant Everyone:F /T /C /Q"
        $c3 = "attrib +h ."
        $c4 = "msg/m_english.wnry"
        $c5 = ".wnry"
        $c6 = "WanaCrypt0r" wide ascii
        $killswitch = "iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com"

    condition:
        uint16(0) == 0x5A4D and filesize < 10MB and ($password or $killswitch) and 2 of ($c*)
}

rule Ring3_Tool_Mimikatz_Commands : credential_dumper
{
    meta:
        id = "ring3.tool.mimikatz_commands"
        description = "Mimikatz command lines: two or more of its credential-dumping module::command pairs (sekurlsa::logonpasswords, lsadump::sam, ...), as in a script or a saved session"
        category = "credential-dumper"
        severity = "high"
        reference = "https://github.com/gentilkiwi/mimikatz/wiki"
        reference2 = "https://attack.mitre.org/software/S0002/"
        date = "2026-12-03"
        action = "Treat the host as compromised: isolate it, reset the passwords of accounts that logged on to it, and find who ran these commands."

    strings:
        $c1 = "sekurlsa::logonpasswords" nocase ascii wide
        $c2 = "sekurlsa::wdigest" nocase ascii wide
        $c3 = "sekurlsa::tickets" nocase ascii wide
        $c4 = "sekurlsa::pth" nocase ascii wide
        $c5 = "sekurlsa::ekeys" nocase ascii wide
        $c6 = "lsadump::sam" nocase ascii wide
        $c7 = "lsadump::secrets" nocase ascii wide
        $c8 = "lsadump::lsa" nocase ascii wide
        $c9 = "lsadump::dcsync" nocase ascii wide
        $c10 = "lsadump::cache" nocase ascii wide
        $c11 = "kerberos::golden" nocase ascii wide
        $c12 = "kerberos::ptt" nocase ascii wide
        $c13 = "misc::skeleton" nocase ascii wide
        $c14 = "token::elevate" nocase ascii wide
        $c15 = "privilege::debug" nocase ascii wide
        $c16 = "vault::cred" nocase ascii wide

    condition:
        filesize < 5MB and 2 of ($c*) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?|ya?ml|json)$/)
}
