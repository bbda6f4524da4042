// Anti-malware test files: harmless files that every scanner detects on purpose, so that users
// can check their pipeline end to end (detection, report, exit code) without real malware.

rule EICAR_Test_File : test_file
{
    meta:
        id = "ring3.test.eicar"
        description = "EICAR anti-malware test file (harmless; used to test scanners)"
        category = "test-file"
        severity = "medium"
        reference = "https://www.eicar.org/download-anti-malware-testfile/"
        date = "2026-11-24"
        action = "A test file, not malware. If nobody meant to put it here, find out who did; otherwise allowlist it or exclude its path."

    strings:
        // The standard: the file starts with these 68 bytes, optionally followed by whitespace
        // (space, tab, LF, CR, Ctrl-Z) to at most 128 bytes in all.
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

    condition:
        // A range whose start is past its end makes a `for all` false, so 68 bytes is its own case.
        $eicar at 0 and filesize <= 128 and (
            filesize == 68 or
            // The loop is bounded: filesize <= 128 is checked first.
            // suppress: potentially_slow_loop
            for all i in (68 .. filesize - 1) : (
                uint8(i) == 0x20 or uint8(i) == 0x09 or uint8(i) == 0x0A or uint8(i) == 0x0D or uint8(i) == 0x1A
            )
        )
}

rule GTUBE_Spam_Test_String : test_file
{
    meta:
        id = "ring3.test.gtube"
        description = "GTUBE (Generic Test for Unsolicited Bulk Email) anti-spam test string (harmless; used to test mail filters)"
        category = "test-file"
        severity = "low"
        reference = "https://spamassassin.apache.org/gtube/"
        date = "2026-11-24"
        action = "A test message, not malware. If nobody meant to put it here, find out who did; otherwise allowlist it or exclude its path."

    strings:
        // The exact 68 characters, on one line with no spaces; SpamAssassin, Rspamd and Exchange
        // Online Protection all treat a message containing them as spam.
        $gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

    condition:
        filesize < 1MB and $gtube
}
