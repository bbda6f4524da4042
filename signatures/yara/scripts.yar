// Scripts: PowerShell download cradles and encoded launchers, Windows Script Host droppers,
// reverse shells and pipe-to-shell droppers. Each rule needs the executable form of the technique
// (flags, connection target, shell, in one statement), not the words that documentation uses to
// describe it: the bash manual names /dev/tcp/host/port, the nc manual names -e; neither matches.

rule Ring3_Script_PowerShell_Download_Cradle : powershell downloader
{
    meta:
        id = "ring3.script.powershell_download_cradle"
        description = "PowerShell download cradle (IEX of (New-Object Net.WebClient).DownloadString) run hidden or from a bare IP address"
        category = "downloader"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1059/001/"
        reference2 = "https://attack.mitre.org/techniques/T1105/"
        date = "2026-11-24"
        action = "Find what started this script (scheduled task, shortcut, macro, service), block the URL, and examine the host for the payload it fetched."

    strings:
        $iex_first = /(IEX|Invoke-Expression)\s*\(?\s*\(\s*New-Object\s+(System\.)?Net\.WebClient\s*\)\s*\.\s*Download(String|Data)\s*\(/ nocase
        $iex_last = /\(\s*New-Object\s+(System\.)?Net\.WebClient\s*\)\s*\.\s*DownloadString\s*\([^)\n]{1,300}\)\s*\|\s*(IEX|Invoke-Expression)\b/ nocase
        // -w[indowstyle] hidden on the PowerShell command line (anchored on the program's name, so
        // that the matcher's atom is a word and not the one byte '-').
        $hidden = /(powershell|pwsh)(\.exe)?["']?(\s[^\r\n]{0,256})?\s-(w|wi|win|wind|windo|window|windows|windowst|windowsty|windowstyl|windowstyle)\s+(h|hi|hid|hidd|hidde|hidden|1)\b/ nocase
        $ip_url = /Download(String|Data)\s*\(\s*['"]https?:\/\/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}[:\/]/ nocase

    condition:
        filesize < 1MB and ($iex_first or $iex_last) and ($hidden or $ip_url) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Script_PowerShell_Encoded_Command : powershell
{
    meta:
        id = "ring3.script.powershell_encoded_command"
        description = "PowerShell launched with -EncodedCommand (or a prefix such as -enc, -e) and a long base64 blob"
        category = "launcher"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1059/001/"
        reference2 = "https://attack.mitre.org/techniques/T1027/010/"
        date = "2026-11-24"
        action = "Decode the blob (base64 of UTF-16LE) to see what it runs, find what launches this file, and examine the host."

    strings:
        // Up to five other switches may come first (-nop -w hidden -noni ...); then at least 100
        // base64 characters (the command as UTF-16LE), which no prose or usage text has.
        $enc = /powershell(\.exe)?["']?\s+(-[a-z]{1,20}(\s+[a-z0-9]{1,20})?\s+){0,5}-e(c|nc|nco|ncod|ncode|ncoded|ncodedc|ncodedco|ncodedcom|ncodedcomm|ncodedcomma|ncodedcomman|ncodedcommand)?\s+["']?[A-Za-z0-9+\/]{100}/ nocase

    condition:
        filesize < 5MB and $enc and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Script_WSH_Downloader : vbscript jscript downloader
{
    meta:
        id = "ring3.script.wsh_downloader"
        description = "VBScript/JScript dropper: fetches a file over HTTP (MSXML2/WinHttp), writes it with ADODB.Stream and runs it with WScript.Shell or Shell.Application"
        category = "downloader"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1059/005/"
        reference2 = "https://attack.mitre.org/techniques/T1059/007/"
        date = "2026-11-24"
        action = "Do not run the script; find where it came from (mail attachment, download, archive), block the URL it fetches and examine hosts that ran it."

    strings:
        $http1 = "MSXML2.XMLHTTP" nocase
        $http2 = "MSXML2.ServerXMLHTTP" nocase
        $http3 = "WinHttp.WinHttpRequest" nocase
        $http4 = "Microsoft.XMLHTTP" nocase
        $stream = "ADODB.Stream" nocase
        $save = ".SaveToFile" nocase
        $shell1 = "WScript.Shell" nocase
        $shell2 = "Shell.Application" nocase
        $run1 = /\.Run\b|\.Exec\b|\.ShellExecute\b/ nocase

    condition:
        filesize < 512KB and
        any of ($http*) and $stream and $save and any of ($shell*) and $run1 and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Script_ReverseShell_Bash : reverse_shell linux
{
    meta:
        id = "ring3.script.reverse_shell_bash"
        description = "Bash reverse shell: an interactive shell redirected to /dev/tcp/HOST/PORT (bash -i >& /dev/tcp/... 0>&1, exec N<>/dev/tcp/...)"
        category = "reverse-shell"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1059/004/"
        reference2 = "https://github.com/swisskyrepo/PayloadsAllTheThings/blob/master/Methodology%20and%20Resources/Reverse%20Shell%20Cheatsheet.md"
        date = "2026-11-24"
        action = "Find what runs this (cron, service, web application, CI job), block the address it connects to and treat the host as compromised."

    strings:
        $i_redirect = /\b(ba|z|k|da)?sh\s+-i\s*(>&|&>|>)\s*\/dev\/(tcp|udp)\/[A-Za-z0-9.\-]{1,100}\/\d{1,5}\s+0(>&1|<&1)/
        $exec_fd = /\bexec\s+\d{1,3}<>\s*\/dev\/(tcp|udp)\/[A-Za-z0-9.\-]{1,100}\/\d{1,5}/
        $fd_shell = /(\/bin\/)?(ba|da|z)?sh\s+(-i\s+)?<&\s*\d{1,3}\s+>&\s*\d{1,3}/

    condition:
        filesize < 1MB and ($i_redirect or ($exec_fd and $fd_shell)) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Script_ReverseShell_Python : reverse_shell python
{
    meta:
        id = "ring3.script.reverse_shell_python"
        description = "Python reverse shell: connects a socket, duplicates it onto stdin/stdout/stderr and starts a shell"
        category = "reverse-shell"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1059/006/"
        reference2 = "https://github.com/swisskyrepo/PayloadsAllTheThings/blob/master/Methodology%20and%20Resources/Reverse%20Shell%20Cheatsheet.md"
        date = "2026-11-24"
        action = "Find what runs this (cron, service, web application, CI job), block the address it connects to and treat the host as compromised."

    strings:
        $socket = /socket\.socket\s*\(\s*(socket\.)?AF_INET/
        $connect = /\.connect\s*\(\s*\(\s*["'][^"']{1,100}["']\s*,\s*\d{1,5}\s*\)\s*\)/
        $dup2 = /os\.dup2\s*\(\s*\w{1,32}\.fileno\(\)\s*,\s*[012]\s*\)/
        $shell1 = /pty\.spawn\s*\(\s*["'](\/bin\/)?(ba|z|da)?sh["']/
        $shell2 = /subprocess\.(call|Popen|run)\s*\(\s*\[\s*["']\/bin\/(ba|z|da)?sh["']\s*,\s*["']-i["']/

    condition:
        filesize < 256KB and
        $socket and $connect and #dup2 >= 2 and ($shell1 or $shell2) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Script_ReverseShell_Netcat : reverse_shell
{
    meta:
        id = "ring3.script.reverse_shell_netcat"
        description = "Netcat reverse shell: nc -e /bin/sh HOST PORT, or the mkfifo | sh -i | nc HOST PORT loop"
        category = "reverse-shell"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1059/004/"
        reference2 = "https://github.com/swisskyrepo/PayloadsAllTheThings/blob/master/Methodology%20and%20Resources/Reverse%20Shell%20Cheatsheet.md"
        date = "2026-11-24"
        action = "Find what runs this (cron, service, web application, CI job), block the address it connects to and treat the host as compromised."

    strings:
        $nc_e_first = /\b(nc|ncat|netcat)(\.exe)?\s+(-[a-z]{1,3}\s+)*-e\s+(\/bin\/(ba|da|z)?sh|cmd(\.exe)?)\s+\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\s+\d{1,5}/
        $nc_e_last = /\b(nc|ncat|netcat)(\.exe)?\s+(-[a-z]{1,3}\s+)*\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\s+\d{1,5}\s+-e\s+(\/bin\/(ba|da|z)?sh|cmd(\.exe)?)\b/
        $fifo = /mkfifo\s+\/tmp\/\w{1,32};\s*cat\s+\/tmp\/\w{1,32}\s*\|\s*(\/bin\/)?(ba|da|z)?sh\s+-i\s+2>&1\s*\|\s*(nc|ncat|netcat)\s+[A-Za-z0-9.\-]{1,100}\s+\d{1,5}/

    condition:
        filesize < 1MB and any of them and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Script_ReverseShell_Perl : reverse_shell perl
{
    meta:
        id = "ring3.script.reverse_shell_perl"
        description = "Perl reverse shell: socket to HOST:PORT, STDIN/STDOUT/STDERR reopened on it, then exec of /bin/sh"
        category = "reverse-shell"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1059/004/"
        reference2 = "https://github.com/swisskyrepo/PayloadsAllTheThings/blob/master/Methodology%20and%20Resources/Reverse%20Shell%20Cheatsheet.md"
        date = "2026-11-24"
        action = "Find what runs this (cron, service, web application, CI job), block the address it connects to and treat the host as compromised."

    strings:
        $use = "use Socket"
        $socket = /socket\s*\(\s*\w{1,16}\s*,\s*PF_INET\s*,\s*SOCK_STREAM/
        $stdin = /open\s*\(\s*STDIN\s*,\s*["']>&\w{1,16}["']\s*\)/
        $stdout = /open\s*\(\s*STDOUT\s*,\s*["']>&\w{1,16}["']\s*\)/
        $exec = /exec\s*\(?\s*["']\/bin\/(ba|da|z)?sh(\s+-i)?["']/

    condition:
        filesize < 256KB and all of them and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Script_Pipe_To_Shell_From_IP : downloader linux
{
    meta:
        id = "ring3.script.pipe_to_shell_from_ip"
        description = "curl or wget of a script from a bare IP address piped straight into a shell (botnet and cryptojacking droppers)"
        category = "downloader"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1105/"
        reference2 = "https://attack.mitre.org/techniques/T1059/004/"
        date = "2026-11-24"
        action = "Find what runs this (cron, rc file, container entrypoint, CI job), block the address and look for the miner or bot it installs."

    strings:
        $pipe = /\b(curl|wget)\s[^\n|;]{0,200}https?:\/\/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(:\d{1,5})?\/[^\n|;]{0,200}\|\s*(sudo\s+)?(ba|da|z)?sh\b/

    condition:
        filesize < 1MB and $pipe and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Script_PowerShell_Download_Execute : powershell downloader
{
    meta:
        id = "ring3.script.powershell_download_execute"
        description = "PowerShell that runs what it downloads (IEX of DownloadString or Invoke-WebRequest/Invoke-RestMethod) from a URL held in a variable, or with the method or class name split to evade signatures"
        category = "downloader"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1059/001/"
        reference2 = "https://attack.mitre.org/techniques/T1027/"
        reference3 = "https://www.mandiant.com/resources/blog/revoke-obfuscation-powershell"
        date = "2026-12-03"
        action = "Find what started this script (scheduled task, shortcut, macro, service), recover the URL the variable held, block it, and examine the host for the payload it fetched."

    strings:
        // IEX ((New-Object Net.WebClient).DownloadString($u)): the URL in a variable, as droppers
        // build it; installers (Chocolatey, Scoop) give a literal https URL.
        $iex_var = /(IEX|Invoke-Expression)\s*\(?\s*\(\s*New-Object\s+(System\.)?Net\.WebClient\s*\)\s*\.\s*Download(String|Data)\s*\(\s*\$[A-Za-z_][\w:]{0,40}\s*\)/ nocase
        $var_iex = /\(\s*New-Object\s+(System\.)?Net\.WebClient\s*\)\s*\.\s*DownloadString\s*\(\s*\$[A-Za-z_][\w:]{0,40}\s*\)\s*\|\s*(IEX|Invoke-Expression)\b/ nocase
        $iwr_var = /\b(iwr|irm|Invoke-WebRequest|Invoke-RestMethod)\s+(-Uri\s+)?\$[A-Za-z_][\w:]{0,40}[^|\r\n]{0,120}\|\s*(IEX|Invoke-Expression)\b/ nocase
        $iex_iwr = /\b(IEX|Invoke-Expression)\s*\(\s*\(?\s*(iwr|irm|Invoke-WebRequest|Invoke-RestMethod)\s+(-Uri\s+)?\$[A-Za-z_][\w:]{0,40}/ nocase
        // 'Down'+'loadString', "Net.Web"+"Client": names split so that no signature sees them whole.
        $split_method = /['"](Do|Dow|Down|Downl|Downlo|Downloa|Download)['"]\s*\+\s*['"][a-z]{0,7}(String|Data)['"]/ nocase
        $split_class = /New-Object\s+\(?\s*['"](System\.)?Net\.(W|We|Web|WebC|WebCl|WebCli|WebClie|WebClien)['"]\s*\+\s*['"]/ nocase
        $iex = /(\bIEX\b|Invoke-Expression|\(\s*['"]i['"]\s*\+\s*['"]ex['"]\s*\)|\(\s*['"]ie['"]\s*\+\s*['"]x['"]\s*\))/ nocase

    condition:
        filesize < 1MB and
        ($iex_var or $var_iex or $iwr_var or $iex_iwr or (($split_method or $split_class) and $iex)) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}

rule Ring3_Script_AMSI_Bypass : powershell evasion
{
    meta:
        id = "ring3.script.amsi_bypass"
        description = "PowerShell that switches off the Antimalware Scan Interface (sets AmsiUtils.amsiInitFailed, whole or with the names split)"
        category = "launcher"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1562/001/"
        reference2 = "https://www.mdsec.co.uk/2018/06/exploring-powershell-amsi-and-logging-evasion/"
        date = "2026-12-03"
        action = "Treat what the script runs after the bypass as hostile: find what started it, and examine the host for the payload it loaded."

    strings:
        // Matt Graeber's one-liner: [Ref].Assembly.GetType('System.Management.Automation.AmsiUtils').GetField('amsiInitFailed','NonPublic,Static').SetValue($null,$true)
        $whole = /AmsiUtils['"]\s*\)\s*\.\s*GetField\s*\(\s*['"]amsiInitFailed['"]/ nocase
        $split_utils = /['"](A|Am|Ams|Amsi|AmsiU|AmsiUt|AmsiUti|AmsiUtil)['"]\s*\+\s*['"][a-z]{0,7}s['"]/ nocase
        $split_failed = /['"](a|am|ams|amsi|amsiI|amsiIn|amsiIni|amsiInit|amsiInitF|amsiInitFa|amsiInitFai|amsiInitFail|amsiInitFaile)['"]\s*\+\s*['"][a-z]{0,12}d['"]/ nocase
        $getfield = /\.\s*GetField\s*\(/ nocase
        $setvalue = /\.\s*SetValue\s*\(\s*\$null\s*,\s*\$true\s*\)/ nocase

    condition:
        filesize < 1MB and uint16(0) != 0x5A4D and
        ($whole or ($split_utils and $split_failed and $getfield and $setvalue)) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}
