#!/usr/bin/env python3
# Extracts YARA-X's end-to-end test cases (lib/src/tests/mod.rs) into the JSON that
# test/unit/yara-x-suite.test.ts runs: python3 scripts/extract-yara-x-suite.py YARA_X_CHECKOUT OUT.json
# Cases under #[cfg(...)] or naming the test_proto modules are left out (YARA-X's WASM build has
# no test modules); a macro whose arguments are not plain literals is skipped and counted.
import json, os, re, sys
root = sys.argv[1]
src = open(os.path.join(root, 'lib/src/tests/mod.rs'), encoding='utf8').read()
jumps = open(os.path.join(root, 'lib/src/tests/testdata/jumps.bin'), 'rb').read()
MACROS = ['condition_true','condition_false','rule_true','rule_false','pattern_true','pattern_false','pattern_match']
i = 0
cases = []
skipped = 0

def skip_ws(s, i):
    while True:
        while i < len(s) and s[i] in ' \t\r\n': i += 1
        if s.startswith('//', i):
            i = s.index('\n', i)
            continue
        return i

def rust_str(s, i, byte=False):
    # s[i] == '"'
    assert s[i] == '"'
    i += 1
    out = bytearray()
    while s[i] != '"':
        c = s[i]
        if c == '\\':
            n = s[i+1]
            if n == 'n': out += b'\n'; i += 2
            elif n == 't': out += b'\t'; i += 2
            elif n == 'r': out += b'\r'; i += 2
            elif n == '0': out += b'\0'; i += 2
            elif n == '\\': out += b'\\'; i += 2
            elif n == '"': out += b'"'; i += 2
            elif n == "'": out += b"'"; i += 2
            elif n == 'x':
                v = int(s[i+2:i+4], 16)
                out += bytes([v]) if byte else chr(v).encode('utf8'); i += 4
            elif n == 'u':
                j = s.index('}', i)
                out += chr(int(s[i+3:j], 16)).encode('utf8'); i = j + 1
            elif n == '\n':
                i += 2
                while s[i] in ' \t\r\n': i += 1
            else: raise ValueError('escape ' + n)
        else:
            out += c.encode('utf8'); i += 1
    return bytes(out), i + 1

def literal(s, i):
    i = skip_ws(s, i)
    if s.startswith('r#"', i):
        j = s.index('"#', i + 3)
        return s[i+3:j].encode('utf8'), j + 2
    if s.startswith('r"', i):
        j = s.index('"', i + 2)
        return s[i+2:j].encode('utf8'), j + 1
    if s.startswith('br#"', i):
        j = s.index('"#', i + 4)
        return s[i+4:j].encode('utf8'), j + 2
    if s.startswith('b"', i):
        return rust_str(s, i + 1, True)
    if s[i] == '"':
        return rust_str(s, i)
    raise ValueError('no literal at ' + s[i:i+30])

def data_expr(s, i):
    i = skip_ws(s, i)
    if s.startswith('&[', i) or s.startswith('[', i):
        j = s.index(']', i)
        body = s[s.index('[', i)+1:j]
        vals = [x.strip() for x in body.split(',') if x.strip()]
        out = bytes(int(v.replace('_u8',''), 0) for v in vals)
        return out, j + 1
    if s.startswith('JUMPS_DATA', i):
        return jumps, i + len('JUMPS_DATA')
    if s.startswith('&JUMPS_DATA', i):
        return jumps, i + len('&JUMPS_DATA')
    if s.startswith('b"', i) or s.startswith('br#"', i) or s.startswith('"', i) or s.startswith('r#"', i):
        v, j = literal(s, i)
        j = skip_ws(s, j)
        if s.startswith('.as_bytes()', j): j += len('.as_bytes()')
        return v, j
    raise ValueError('data ' + s[i:i+40])

pos = 0
pat = re.compile(r'(?<![a-z_])(' + '|'.join(MACROS) + r')!\(')
cfg = re.compile(r'#\[cfg\(([^\]]*)\)\]\s*$')
for m in pat.finditer(src):
    name = m.group(1)
    start = m.end()
    # skip macro definitions
    line_start = src.rfind('\n', 0, m.start()) + 1
    prefix = src[line_start:m.start()]
    if 'macro_rules' in prefix or '=>' in src[m.start():m.start()+200].split('\n')[0] and '$' in src[m.start():m.start()+200].split('\n')[0]:
        continue
    before = src[max(0, m.start()-200):m.start()].rstrip()
    cfgm = re.search(r'#\[cfg\(([^\]]*)\)\]$', before)
    try:
        arg, i = literal(src, start)
        i = skip_ws(src, i)
        data = b''
        expected = None
        if src[i] == ',':
            i = skip_ws(src, i + 1)
            if src[i] != ')':
                data, i = data_expr(src, i)
                i = skip_ws(src, i)
                if name == 'pattern_match':
                    assert src[i] == ','
                    expected, i = data_expr(src, i + 1)
                    i = skip_ws(src, i)
                    if src[i] == ',': i = skip_ws(src, i + 1)
                if src[i] == ',': i = skip_ws(src, i + 1)
        if src[i] != ')': raise ValueError('end ' + src[i:i+40])
    except Exception as e:
        skipped += 1
        continue
    text = arg.decode('utf8', 'surrogateescape')
    if cfgm or 'test_proto' in text:
        skipped += 1
        continue
    line = src.count('\n', 0, m.start()) + 1
    c = {'line': line, 'macro': name, 'text': text, 'data': data.hex()}
    if expected is not None: c['match'] = expected.hex()
    cases.append(c)
json.dump(cases, open(sys.argv[2], 'w'), indent=0)
print(len(cases), 'cases,', skipped, 'skipped', file=sys.stderr)
