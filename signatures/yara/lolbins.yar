// Windows system programs turned against the host ("living off the land", LOLBAS): certutil as a
// downloader and decoder, mshta/rundll32 running inline script, regsvr32 running a remote
// scriptlet, and the commands ransomware runs to remove recovery (shadow copies, boot recovery,
// backup catalog). Each rule needs the executable form (program, switch, target together), not the
// words that manuals use; listing shadow copies or hashing a file with certutil does not match.

rule Ring3_LOLBin_Certutil_Download_Decode : windows downloader lolbin
{
    meta:
        id = "ring3.lolbin.certutil_download_decode"
        author = "ring3"
        description = "certutil used as a downloader (-urlcache or -verifyctl with a URL) or to decode base64/hex into an executable or script"
        category = "downloader"
        severity = "high"
        reference = "https://lolbas-project.github.io/lolbas/Binaries/Certutil/"
        reference2 = "https://attack.mitre.org/techniques/T1105/"
        reference3 = "https://attack.mitre.org/techniques/T1140/"
        date = "2026-12-03"
        action = "Find what runs this command (script, scheduled task, macro), block the URL and examine the host for the file it fetched or decoded."

    strings:
        // certutil [-f] [-split] -urlcache [-split] [-f] http://... (switches in any order, - or /).
        $download = /certutil(\.exe)?["']?\s+([-\/][A-Za-z]{1,12}\s+){0,4}[-\/](urlcache|verifyctl)\s+([-\/][A-Za-z]{1,12}\s+){0,4}["']?(https?|ftp):\/\/[^\s"']{4}/ nocase
        $decode = /certutil(\.exe)?["']?\s+([-\/][A-Za-z]{1,12}\s+){0,2}[-\/]decode(hex)?\s+["']?[^\s"']{1,260}["']?\s+["']?[^\s"']{1,260}\.(exe|dll|scr|ps1|vbs|js|hta|bat|cmd)\b/ nocase

    condition:
        filesize < 2MB and ($download or $decode) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_LOLBin_Mshta_Rundll32_Script : windows launcher lolbin
{
    meta:
        id = "ring3.lolbin.mshta_rundll32_script"
        author = "ring3"
        description = "mshta or rundll32 made to run inline script (javascript:/vbscript:, mshtml RunHTMLApplication) or an HTML application from a URL"
        category = "launcher"
        severity = "high"
        reference = "https://lolbas-project.github.io/lolbas/Binaries/Mshta/"
        reference2 = "https://lolbas-project.github.io/lolbas/Binaries/Rundll32/"
        reference3 = "https://attack.mitre.org/techniques/T1218/005/"
        reference4 = "https://attack.mitre.org/techniques/T1218/011/"
        date = "2026-12-03"
        action = "Find what runs this command (shortcut, Run key, scheduled task, macro), block the URL or script it loads and examine the host."

    strings:
        $mshta_inline = /mshta(\.exe)?["']?\s+["']?(javascript|vbscript):/ nocase
        $mshta_url = /mshta(\.exe)?["']?\s+["']?https?:\/\/[^\s"']{4}/ nocase
        $rundll32_inline = /rundll32(\.exe)?["']?\s+["']?(javascript|vbscript):/ nocase
        // rundll32 javascript:"\..\mshtml,RunHTMLApplication " (Poweliks and its followers), or by ordinal #135.
        $runhtml = /mshtml(\.dll)?["']?\s*,\s*(RunHTMLApplication|#135)\b/ nocase

    condition:
        filesize < 2MB and any of them and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_LOLBin_Regsvr32_Remote_Scriptlet : windows launcher lolbin
{
    meta:
        id = "ring3.lolbin.regsvr32_remote_scriptlet"
        author = "ring3"
        description = "regsvr32 made to run a scriptlet from a URL through scrobj.dll (regsvr32 /s /n /u /i:http://... scrobj.dll, 'Squiblydoo')"
        category = "launcher"
        severity = "high"
        reference = "https://lolbas-project.github.io/lolbas/Binaries/Regsvr32/"
        reference2 = "https://attack.mitre.org/techniques/T1218/010/"
        date = "2026-12-03"
        action = "Find what runs this command, block the scriptlet's URL and examine the host for what the scriptlet started."

    strings:
        $remote = /regsvr32(\.exe)?["']?\s+([-\/][A-Za-z]{1,2}\s+){0,4}[-\/]i:["']?(https?|ftp):\/\/[^\s"']{4,300}["']?\s+([-\/][A-Za-z]{1,2}\s+){0,4}scrobj(\.dll)?\b/ nocase

    condition:
        filesize < 2MB and $remote and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_LOLBin_Inhibit_Recovery : windows ransomware
{
    meta:
        id = "ring3.lolbin.inhibit_recovery"
        author = "ring3"
        description = "Deletes every shadow copy (vssadmin delete shadows /all, wmic shadowcopy delete, Win32_ShadowCopy Delete) or switches off boot recovery and the backup catalog, as ransomware does before encrypting"
        category = "ransomware"
        severity = "critical"
        reference = "https://attack.mitre.org/techniques/T1490/"
        reference2 = "https://www.microsoft.com/en-us/security/blog/2017/05/12/wannacrypt-ransomware-worm-targets-out-of-date-systems/"
        reference3 = "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/vssadmin-delete-shadows"
        date = "2026-12-03"
        action = "Treat the host as hit by ransomware: isolate it, keep offline backups out of its reach, and find the program that carries these commands."

    strings:
        // In scripts and inside ransomware binaries (as ANSI or UTF-16 strings).
        $vss = /vssadmin(\.exe)?["']?\s+delete\s+shadows[^\r\n&|]{0,60}[\/-](all|quiet)\b/ nocase ascii wide
        $wmic = /wmic(\.exe)?["']?\s+([\/-][A-Za-z:]{1,20}\s+){0,3}shadowcopy\s+delete\b/ nocase ascii wide
        $wmi_ps = /Win32_ShadowCopy[^\r\n]{0,120}(\.Delete\(\)|Remove-(CimInstance|WmiObject))/ nocase
        $bcd_recovery = /bcdedit(\.exe)?["']?\s+\/set\s+\{default\}\s+recoveryenabled\s+(no|off|false)\b/ nocase ascii wide
        $bcd_failures = /bcdedit(\.exe)?["']?\s+\/set\s+\{default\}\s+bootstatuspolicy\s+ignoreallfailures\b/ nocase ascii wide
        $wbadmin = /wbadmin(\.exe)?["']?\s+delete\s+(catalog|systemstatebackup|backup)\b/ nocase ascii wide
        $resize = /vssadmin(\.exe)?["']?\s+resize\s+shadowstorage\s[^\r\n&|]{0,60}\/maxsize=\d{1,4}\s?(MB|KB)\b/ nocase ascii wide

    condition:
        filesize < 20MB and
        ($vss or $wmic or $wmi_ps or 2 of ($bcd_recovery, $bcd_failures, $wbadmin, $resize)) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}
