// Web shells: server-side scripts that run what an HTTP request tells them to. The rules look for
// the request parameter flowing straight into an evaluator or a process launcher in one
// expression, which application code does not do, and bound the file size: shells are small.

rule Ring3_WebShell_PHP_Eval_Request : webshell php
{
    meta:
        id = "ring3.webshell.php_eval_request"
        description = "PHP web shell: eval/assert/create_function of a decoded request parameter (eval(base64_decode($_POST[...])) and the like)"
        category = "webshell"
        severity = "critical"
        reference = "https://media.defense.gov/2020/Jun/09/2002313081/-1/-1/0/CSI-DETECT-AND-PREVENT-WEB-SHELL-MALWARE-20200422.PDF"
        reference2 = "https://attack.mitre.org/techniques/T1505/003/"
        date = "2026-11-24"
        action = "Take the site offline or block the file, preserve it and the web logs for investigation, find how it was uploaded, and rebuild the web root from a known-good source."

    strings:
        // eval( [decoder(]* $_POST / $_GET / $_REQUEST / $_COOKIE / $_SERVER['HTTP_...'] [
        $eval_decoded = /\b(eval|assert|create_function)\s*\(\s*(@?\s*(base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|rawurldecode|urldecode|hex2bin)\s*\(\s*){1,4}@?\$_(POST|GET|REQUEST|COOKIE|SERVER)\s*\[/ nocase
        $eval_direct = /\b(eval|assert)\s*\(\s*@?\$_(POST|GET|REQUEST|COOKIE)\s*\[\s*['"]?[\w-]{1,64}['"]?\s*\]\s*\)/ nocase
        $php = "<?"

    condition:
        filesize < 512KB and $php and ($eval_decoded or $eval_direct) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_WebShell_PHP_System_Request : webshell php
{
    meta:
        id = "ring3.webshell.php_exec_request"
        description = "PHP web shell: a request parameter passed straight to system/exec/passthru/shell_exec/popen/proc_open"
        category = "webshell"
        severity = "critical"
        reference = "https://media.defense.gov/2020/Jun/09/2002313081/-1/-1/0/CSI-DETECT-AND-PREVENT-WEB-SHELL-MALWARE-20200422.PDF"
        reference2 = "https://attack.mitre.org/techniques/T1505/003/"
        date = "2026-11-24"
        action = "Take the site offline or block the file, preserve it and the web logs for investigation, find how it was uploaded, and rebuild the web root from a known-good source."

    strings:
        $exec = /\b(system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec)\s*\(\s*(@?\s*(base64_decode|urldecode|rawurldecode|stripslashes|trim)\s*\(\s*){0,3}@?(\$_POST|\$_GET|\$_REQUEST|\$_COOKIE)\s*\[/ nocase
        $php = "<?"

    condition:
        filesize < 512KB and $php and $exec and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_WebShell_ChinaChopper_ASPX : webshell aspx
{
    meta:
        id = "ring3.webshell.china_chopper_aspx"
        description = "China Chopper ASP.NET one-liner: <%@ Page Language=\"Jscript\"%><%eval(Request.Item[...],\"unsafe\");%>"
        category = "webshell"
        severity = "critical"
        reference = "https://www.fireeye.com/blog/threat-research/2013/08/breaking-down-the-china-chopper-web-shell-part-i.html"
        reference2 = "https://attack.mitre.org/software/S0020/"
        date = "2026-11-24"
        action = "Take the site offline or block the file, preserve it and the IIS logs for investigation, patch the entry point (often Exchange or SharePoint) and rebuild the web root."

    strings:
        $page = /<%@\s*Page\s+Language\s*=\s*"?Jscript"?\s*%>/ nocase
        $eval = /eval\s*\(\s*Request(\.Item)?\s*\[\s*"[^"]{1,64}"\s*\]\s*,\s*"unsafe"\s*\)/ nocase

    condition:
        filesize < 64KB and $page and $eval
}

rule Ring3_WebShell_ASPX_Process_Request : webshell aspx
{
    meta:
        id = "ring3.webshell.aspx_cmd_request"
        description = "ASP.NET web shell: starts cmd.exe or powershell.exe with arguments taken from the request"
        category = "webshell"
        severity = "critical"
        reference = "https://media.defense.gov/2020/Jun/09/2002313081/-1/-1/0/CSI-DETECT-AND-PREVENT-WEB-SHELL-MALWARE-20200422.PDF"
        reference2 = "https://attack.mitre.org/techniques/T1505/003/"
        date = "2026-11-24"
        action = "Take the site offline or block the file, preserve it and the IIS logs for investigation, find how it was uploaded, and rebuild the web root from a known-good source."

    strings:
        $page = /<%@\s*(Page|WebHandler)\b/ nocase
        $psi = /ProcessStartInfo\s*\(\s*"(cmd|cmd\.exe|powershell|powershell\.exe)"/ nocase
        $filename = /\.FileName\s*=\s*"(cmd|cmd\.exe|powershell|powershell\.exe)"/ nocase
        $args = /\.Arguments\s*=\s*("\/c\s*"\s*\+\s*)?Request(\.Form|\.QueryString|\.Item|\.Params)?\s*\[/ nocase
        $start = "Process.Start" nocase

    condition:
        filesize < 256KB and $page and ($psi or $filename) and $args and $start and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_WebShell_JSP_Runtime_Exec : webshell jsp
{
    meta:
        id = "ring3.webshell.jsp_runtime_exec"
        description = "JSP web shell: Runtime.getRuntime().exec() or ProcessBuilder on a request parameter"
        category = "webshell"
        severity = "critical"
        reference = "https://media.defense.gov/2020/Jun/09/2002313081/-1/-1/0/CSI-DETECT-AND-PREVENT-WEB-SHELL-MALWARE-20200422.PDF"
        reference2 = "https://attack.mitre.org/techniques/T1505/003/"
        date = "2026-11-24"
        action = "Take the application offline or block the file, preserve it and the access logs for investigation, find how it was deployed, and redeploy from a known-good build."

    strings:
        $jsp = "<%"
        $exec = /Runtime\.getRuntime\(\)\.exec\s*\(\s*(new\s+String\s*\[\]\s*\{[^}]{0,100})?request\.getParameter\s*\(/
        $pb = /new\s+ProcessBuilder\s*\(\s*(new\s+String\s*\[\]\s*\{[^}]{0,100})?request\.getParameter\s*\(/

    condition:
        filesize < 256KB and $jsp and ($exec or $pb) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}
