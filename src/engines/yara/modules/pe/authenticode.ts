// The pe module's Authenticode fields (signatures, number_of_signatures, is_signed) as YARA-X 1.20
// computes them (utils/authenticode.rs, utils/asn1.rs, pe/parser.rs parse_signatures): the
// certificate table's WIN_CERTIFICATE entries, each a PKCS#7 SignedData read by a small DER reader
// over that table alone (lengths checked against their parent, nesting depth bounded). Where
// YARA-X's answer hangs on a detail this reader does not reproduce (BER-only encodings, a
// certificate its X.509 parser might refuse, an OID name or time form outside the tables here,
// DSA and ECDSA signature checks), the field, or the whole signature list, is UNKNOWN and YARA-X
// decides. `verified` checks RSA signatures itself (BigInt modPow), as the rsa crate does.
import { createHash } from "node:crypto";
import { UNKNOWN, type StructValue, type Unknown, type Value } from "../../contracts";
import { toBytes } from "./bytes";
import type { PeFile } from "./file";
import { DIR_SECURITY, MAGIC_PE64 } from "./headers";
import { array, func, int, struct } from "./values";

/** YARA-X's answer is not known here: the signature list is UNKNOWN. */
class Uncertain extends Error {}
/** YARA-X's parser fails here too (a wrong tag, a missing field, a rule of Authenticode broken). */
class Fail extends Error {}
/** Fail at the end of the input (nom's Incomplete), which a few of YARA-X's loops take as "done". */
class Incomplete extends Fail {}

/** A certificate table larger than this is not parsed (UNKNOWN): real ones are a few tens of KB. */
const MAX_TABLE = 16 << 20;
/** A certificate chain longer than this is not checked (verified is UNKNOWN); real ones have 2 to 5. */
const MAX_CHAIN = 32;
/** Nested signatures inside nested signatures deeper than this are UNKNOWN. */
const MAX_NESTING = 8;

// ---------------------------------------------------------------------------------------------
// DER elements. Only definite, minimal lengths and low tag numbers are read; anything else is a
// form where YARA-X's BER and DER parsers differ in ways not reproduced here.

interface Tlv {
  cls: number;
  cons: boolean;
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the content. */
  at: number;
  end: number;
}

const SEQUENCE = 16;
const SET = 17;
const CONTEXT = 2;

function tlv(b: Uint8Array, pos: number, limit: number): Tlv {
  if (pos >= limit) throw new Incomplete("no element");
  const id = b[pos]!;
  if ((id & 0x1f) === 0x1f) throw new Uncertain("high tag number");
  if (pos + 1 >= limit) throw new Incomplete("truncated header");
  let len = b[pos + 1]!;
  let at = pos + 2;
  if (len === 0x80) throw new Uncertain("indefinite length");
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4) throw new Uncertain("length over 4 bytes");
    if (at + n > limit) throw new Incomplete("truncated length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[at + i]!;
    if (b[at] === 0 || len < 0x80) throw new Uncertain("non-minimal length");
    at += n;
  }
  if (at + len > limit) throw new Incomplete("truncated content");
  return { cls: id >> 6, cons: (id & 0x20) !== 0, tag: id & 0x1f, start: pos, at, end: at + len };
}

/** An element of a universal type: another tag number fails; the right number in another form is UNKNOWN. */
function expect(t: Tlv, tag: number): Tlv {
  if (t.tag !== tag) throw new Fail(`tag ${t.tag}, not ${tag}`);
  const cons = tag === SEQUENCE || tag === SET;
  if (t.cls !== 0 || t.cons !== cons) throw new Uncertain("unusual class or form");
  return t;
}

/** Reads the elements of a content range one after another. */
class Cursor {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}
  static in(b: Uint8Array, t: Tlv): Cursor {
    return new Cursor(b, t.at, t.end);
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  next(): Tlv {
    const t = tlv(this.b, this.pos, this.end);
    this.pos = t.end;
    return t;
  }
  peek(): Tlv | undefined {
    return this.done ? undefined : tlv(this.b, this.pos, this.end);
  }
  take(tag: number): Tlv {
    return expect(this.next(), tag);
  }
  /** asn1-rs OptTaggedParser: a context-specific [n] if the next element has tag number n. */
  optional(n: number): Tlv | undefined {
    const t = this.peek();
    if (!t || t.tag !== n) return undefined;
    if (t.cls !== CONTEXT) throw new Fail("wrong class for a tagged field");
    this.pos = t.end;
    return t;
  }
}

const content = (b: Uint8Array, t: Tlv): Uint8Array => b.subarray(t.at, t.end);
const whole = (b: Uint8Array, t: Tlv): Uint8Array => b.subarray(t.start, t.end);

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
}

/** An unsigned big-endian integer (BigUint::from_bytes_be). */
function biguint(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${hex(b)}`);
}

/** INTEGER::as_i32 for the small versions of SignedData and SignerInfo. */
function smallInt(b: Uint8Array, t: Tlv): number {
  const c = content(b, t);
  if (c.length === 0 || c.length > 4 || (c.length > 1 && (c[0] === 0 ? c[1]! < 0x80 : c[0] === 0xff && c[1]! >= 0x80))) {
    throw new Uncertain("unusual INTEGER");
  }
  let v = c[0]! >= 0x80 ? -1 : 0;
  for (const x of c) v = v * 256 + x;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Object identifiers: const-oid's checks (arcs in u32, at most 39 bytes) and names (oid_to_str in
// asn1.rs: a few of its own, then the const-oid 0.9.6 database, else the dotted form).

function oidText(b: Uint8Array, t: Tlv): string {
  const c = content(b, t);
  if (c.length === 0 || c.length > 39) throw new Uncertain("unusual OID length");
  const arcs: number[] = [];
  let v = 0;
  let started = false;
  for (const x of c) {
    if (!started && x === 0x80) throw new Uncertain("non-minimal OID arc");
    started = true;
    v = v * 128 + (x & 0x7f);
    if (v > 0xffffffff) throw new Uncertain("OID arc over 32 bits");
    if ((x & 0x80) === 0) {
      arcs.push(v);
      v = 0;
      started = false;
    }
  }
  if (started) throw new Uncertain("truncated OID");
  const first = arcs.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  if (head[0] === 2 && first - 80 > 0xffffffff) throw new Uncertain("OID arc over 32 bits");
  return [...head, ...arcs].join(".");
}

function readOid(c: Cursor): string {
  return oidText(c.b, c.take(6));
}

// Excerpt of const-oid 0.9.6's database (the first name of each OID, as Database::by_oid finds
// it) for the arcs that certificates' names and algorithms use. An OID outside these arcs may or
// may not have a name there: its name is UNKNOWN.
const OID_NAMES_TEXT = `
0.9.2342.19200300.100.1.1=uid 0.9.2342.19200300.100.1.10=manager
0.9.2342.19200300.100.1.11=documentIdentifier 0.9.2342.19200300.100.1.12=documentTitle
0.9.2342.19200300.100.1.13=documentVersion 0.9.2342.19200300.100.1.14=documentAuthor
0.9.2342.19200300.100.1.15=documentLocation 0.9.2342.19200300.100.1.2=textEncodedORAddress
0.9.2342.19200300.100.1.20=homePhone 0.9.2342.19200300.100.1.21=secretary
0.9.2342.19200300.100.1.22=otherMailbox 0.9.2342.19200300.100.1.23=lastModifiedTime
0.9.2342.19200300.100.1.24=lastModifiedBy 0.9.2342.19200300.100.1.25=DC 0.9.2342.19200300.100.1.26=aRecord
0.9.2342.19200300.100.1.27=mDRecord 0.9.2342.19200300.100.1.28=mXRecord 0.9.2342.19200300.100.1.29=nSRecord
0.9.2342.19200300.100.1.3=mail 0.9.2342.19200300.100.1.30=sOARecord 0.9.2342.19200300.100.1.31=cNAMERecord
0.9.2342.19200300.100.1.37=associatedDomain 0.9.2342.19200300.100.1.38=associatedName
0.9.2342.19200300.100.1.39=homePostalAddress 0.9.2342.19200300.100.1.4=info
0.9.2342.19200300.100.1.40=personalTitle 0.9.2342.19200300.100.1.41=mobile
0.9.2342.19200300.100.1.42=pager 0.9.2342.19200300.100.1.43=co 0.9.2342.19200300.100.1.44=uniqueIdentifier
0.9.2342.19200300.100.1.45=organizationalStatus 0.9.2342.19200300.100.1.46=janetMailbox
0.9.2342.19200300.100.1.47=mailPreferenceOption 0.9.2342.19200300.100.1.48=buildingName
0.9.2342.19200300.100.1.49=dSAQuality 0.9.2342.19200300.100.1.5=drink
0.9.2342.19200300.100.1.50=singleLevelQuality 0.9.2342.19200300.100.1.51=subtreeMinimumQuality
0.9.2342.19200300.100.1.52=subtreeMaximumQuality 0.9.2342.19200300.100.1.53=personalSignature
0.9.2342.19200300.100.1.54=dITRedirect 0.9.2342.19200300.100.1.55=audio
0.9.2342.19200300.100.1.56=documentPublisher 0.9.2342.19200300.100.1.6=roomNumber
0.9.2342.19200300.100.1.60=jpegPhoto 0.9.2342.19200300.100.1.7=photo 0.9.2342.19200300.100.1.8=userClass
0.9.2342.19200300.100.1.9=host 1.2.840.10040.4.1=id-dsa 1.2.840.10040.4.3=id-dsa-with-sha1
1.2.840.10045.1.1=prime-field 1.2.840.10045.2.1=id-ecPublicKey 1.2.840.10045.3.1.1=secp192r1
1.2.840.10045.3.1.7=secp256r1 1.2.840.10045.4.1=ecdsa-with-SHA1 1.2.840.10045.4.3.1=ecdsa-with-SHA224
1.2.840.10045.4.3.2=ecdsa-with-SHA256 1.2.840.10045.4.3.3=ecdsa-with-SHA384
1.2.840.10045.4.3.4=ecdsa-with-SHA512 1.2.840.113549.1.1.1=rsaEncryption
1.2.840.113549.1.1.10=id-RSASSA-PSS 1.2.840.113549.1.1.14=sha224WithRSAEncryption
1.2.840.113549.1.1.2=md2WithRSAEncryption 1.2.840.113549.1.1.5=sha1WithRSAEncryption
1.2.840.113549.1.1.7=id-RSAES-OAEP 1.2.840.113549.1.1.8=id-mgf1 1.2.840.113549.1.1.9=id-pSpecified
1.2.840.113549.1.9.1=email 1.2.840.113549.1.9.14=extensionRequest
1.2.840.113549.1.9.15=smimeCapabilities 1.2.840.113549.1.9.16=id-smime
1.2.840.113549.1.9.16.1.1=id-ct-receipt 1.2.840.113549.1.9.16.1.2=id-ct-authData
1.2.840.113549.1.9.16.1.23=id-ct-authEnvelopedData 1.2.840.113549.1.9.16.1.24=id-ct-routeOriginAuthz
1.2.840.113549.1.9.16.1.26=id-ct-rpkiManifest 1.2.840.113549.1.9.16.1.27=id-ct-contentCollection
1.2.840.113549.1.9.16.1.28=id-ct-rpkiGhostbusters 1.2.840.113549.1.9.16.1.35=id-ct-signedChecklist
1.2.840.113549.1.9.16.1.47=id-ct-geofeedCSVwithCRLF 1.2.840.113549.1.9.16.1.48=id-ct-rpkiSignedPrefixList
1.2.840.113549.1.9.16.1.49=id-ct-ASPA 1.2.840.113549.1.9.16.1.9=id-ct-compressedData
1.2.840.113549.1.9.16.2.1=id-aa-receiptRequest 1.2.840.113549.1.9.16.2.10=id-aa-contentReference
1.2.840.113549.1.9.16.2.11=id-aa-encrypKeyPref 1.2.840.113549.1.9.16.2.12=id-aa-signingCertificate
1.2.840.113549.1.9.16.2.14=id-aa-timeStampToken 1.2.840.113549.1.9.16.2.15=id-aa-ets-sigPolicyId
1.2.840.113549.1.9.16.2.16=id-aa-ets-commitmentType 1.2.840.113549.1.9.16.2.17=id-aa-ets-signerLocation
1.2.840.113549.1.9.16.2.18=id-aa-ets-signerAttr 1.2.840.113549.1.9.16.2.19=id-aa-ets-otherSigCert
1.2.840.113549.1.9.16.2.2=id-aa-securityLabel 1.2.840.113549.1.9.16.2.20=id-aa-ets-contentTimestamp
1.2.840.113549.1.9.16.2.21=id-aa-ets-CertificateRefs 1.2.840.113549.1.9.16.2.22=id-aa-ets-RevocationRefs
1.2.840.113549.1.9.16.2.23=id-aa-ets-certValues 1.2.840.113549.1.9.16.2.24=id-aa-ets-revocationValues
1.2.840.113549.1.9.16.2.25=id-aa-ets-escTimeStamp 1.2.840.113549.1.9.16.2.26=id-aa-ets-certCRLTimestamp
1.2.840.113549.1.9.16.2.27=id-aa-ets-archiveTimestamp 1.2.840.113549.1.9.16.2.3=id-aa-mlExpandHistory
1.2.840.113549.1.9.16.2.4=id-aa-contentHint 1.2.840.113549.1.9.16.2.47=id-aa-signingCertificateV2
1.2.840.113549.1.9.16.2.5=id-aa-msgSigDigest 1.2.840.113549.1.9.16.2.54=id-aa-binarySigningTime
1.2.840.113549.1.9.16.2.7=id-aa-contentIdentifier 1.2.840.113549.1.9.16.2.8=id-aa-macValue
1.2.840.113549.1.9.16.2.9=id-aa-equivalentLabels 1.2.840.113549.1.9.16.3.3=id-alg-ESDHwith3DES
1.2.840.113549.1.9.16.3.5=id-alg-ESDH 1.2.840.113549.1.9.16.3.6=id-alg-CMS3DESwrap
1.2.840.113549.1.9.16.3.7=id-alg-CMSRC2wrap 1.2.840.113549.1.9.16.3.9=id-alg-PWRI-KEK
1.2.840.113549.1.9.2=unstructuredName 1.2.840.113549.1.9.20=friendlyName
1.2.840.113549.1.9.21=localKeyId 1.2.840.113549.1.9.22.1=x509Certificate
1.2.840.113549.1.9.22.2=sdsiCertificate 1.2.840.113549.1.9.23.1=x509Crl 1.2.840.113549.1.9.3=id-contentType
1.2.840.113549.1.9.4=id-messageDigest 1.2.840.113549.1.9.5=id-signingTime
1.2.840.113549.1.9.52=id-aa-CMSAlgorithmProtection 1.2.840.113549.1.9.6=id-countersignature
1.2.840.113549.1.9.8=unstructuredAddress 1.2.840.113549.2.10=hmacWithSHA384
1.2.840.113549.2.11=hmacWithSHA512 1.2.840.113549.2.2=id-md2 1.2.840.113549.2.5=id-md5
1.2.840.113549.2.7=hmacWithSHA1 1.2.840.113549.2.8=hmacWithSHA224 1.2.840.113549.2.9=hmacWithSHA256
1.3.101.110=id-X25519 1.3.101.111=id-X448 1.3.101.112=id-Ed25519 1.3.101.113=id-Ed448
1.3.14.3.2.26=id-sha1 2.16.840.1.101.3.4.1.2=id-aes128-CBC 2.16.840.1.101.3.4.1.22=id-aes192-CBC
2.16.840.1.101.3.4.1.42=id-aes256-CBC 2.16.840.1.101.3.4.2.1=id-sha256 2.16.840.1.101.3.4.2.10=id-sha3-512
2.16.840.1.101.3.4.2.11=id-shake128 2.16.840.1.101.3.4.2.12=id-shake256 2.16.840.1.101.3.4.2.2=id-sha384
2.16.840.1.101.3.4.2.3=id-sha512 2.16.840.1.101.3.4.2.4=id-sha224 2.16.840.1.101.3.4.2.7=id-sha3-224
2.16.840.1.101.3.4.2.8=id-sha3-256 2.16.840.1.101.3.4.2.9=id-sha3-384 2.16.840.1.101.3.4.3.1=dsa-with-sha224
2.16.840.1.101.3.4.3.10=id-ecdsa-with-sha3-256 2.16.840.1.101.3.4.3.11=id-ecdsa-with-sha3-384
2.16.840.1.101.3.4.3.12=id-ecdsa-with-sha3-512 2.16.840.1.101.3.4.3.2=dsa-with-sha256
2.16.840.1.101.3.4.3.9=id-ecdsa-with-sha3-224 2.5.4=x509 2.5.4.0=objectClass 2.5.4.1=aliasedEntryName
2.5.4.10=o 2.5.4.11=ou 2.5.4.12=title 2.5.4.13=description 2.5.4.14=searchGuide 2.5.4.15=businessCategory
2.5.4.16=postalAddress 2.5.4.17=postalCode 2.5.4.18=postOfficeBox 2.5.4.19=physicalDeliveryOfficeName
2.5.4.2=knowledgeInformation 2.5.4.20=telephoneNumber 2.5.4.21=telexNumber
2.5.4.22=teletexTerminalIdentifier 2.5.4.23=facsimileTelephoneNumber 2.5.4.24=x121Address
2.5.4.25=internationaliSDNNumber 2.5.4.26=registeredAddress 2.5.4.27=destinationIndicator
2.5.4.28=preferredDeliveryMethod 2.5.4.29=presentationAddress 2.5.4.3=cn 2.5.4.30=supportedApplicationContext
2.5.4.31=member 2.5.4.32=owner 2.5.4.33=roleOccupant 2.5.4.34=seeAlso 2.5.4.35=userPassword
2.5.4.36=userCertificate 2.5.4.37=cACertificate 2.5.4.38=authorityRevocationList
2.5.4.39=certificateRevocationList 2.5.4.4=sn 2.5.4.40=crossCertificatePair 2.5.4.41=name
2.5.4.42=givenName 2.5.4.43=initials 2.5.4.44=generationQualifier 2.5.4.45=x500UniqueIdentifier
2.5.4.46=dnQualifier 2.5.4.47=enhancedSearchGuide 2.5.4.48=protocolInformation 2.5.4.49=distinguishedName
2.5.4.5=serialNumber 2.5.4.50=uniqueMember 2.5.4.51=houseIdentifier 2.5.4.52=supportedAlgorithms
2.5.4.53=deltaRevocationList 2.5.4.54=dmdName 2.5.4.6=c 2.5.4.65=pseudonym 2.5.4.7=L
2.5.4.8=stateOrProvinceName 2.5.4.9=streetAddress
`;

/** oid_to_str's own names, checked before the database. */
const OWN_NAMES: Record<string, string> = {
  "1.2.840.113549.2.5": "md5",
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.3.14.3.2.29": "sha1WithRSAEncryption",
  "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
  "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
  "1.2.840.10040.4.3": "dsaWithSHA1",
  "2.16.840.1.101.3.4.3.1": "dsa_with_SHA224",
  "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256",
  "2.5.4.6": "C",
  "2.5.4.3": "CN",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
  "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
  "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
};

let dbNames: Map<string, string> | undefined;
/** Arcs whose database entries are all in OID_NAMES_TEXT (the Microsoft arc has none there). */
const COVERED = ["2.5.4", "1.2.840.113549.1.9.", "0.9.2342.19200300.100.1.", "1.2.840.113549.1.1.", "1.2.840.10045.",
  "2.16.840.1.101.3.4.", "1.3.14.3.2.", "1.2.840.10040.", "1.3.101.", "1.2.840.113549.2.", "1.3.6.1.4.1.311."];

/** oid_to_str: the OID's name in YARA-X, or UNKNOWN when it is outside the excerpt. */
function oidName(oid: string): string | Unknown {
  const own = OWN_NAMES[oid];
  if (own) return own;
  if (!dbNames) {
    dbNames = new Map();
    for (const e of OID_NAMES_TEXT.split(/\s+/)) {
      const at = e.indexOf("=");
      if (at > 0) dbNames.set(e.slice(0, at), e.slice(at + 1));
    }
  }
  const named = dbNames.get(oid);
  if (named) return named;
  return COVERED.some((p) => oid === p || oid.startsWith(p.endsWith(".") ? p : `${p}.`)) ? oid : UNKNOWN;
}

/** Digest algorithms YARA-X hashes with (node:crypto name, undefined for MD2 which it lacks). */
const DIGESTS: Record<string, string | undefined> = {
  "1.2.840.113549.2.2": undefined,
  "1.2.840.113549.1.1.2": undefined,
  "1.2.840.113549.2.5": "md5",
  "1.2.840.113549.1.1.4": "md5",
  "1.3.14.3.2.26": "sha1",
  "1.2.840.113549.1.1.5": "sha1",
  "1.3.14.3.2.29": "sha1",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "1.2.840.113549.1.1.11": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "1.2.840.113549.1.1.12": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
  "1.2.840.113549.1.1.13": "sha512",
};

const OID_SIGNED_DATA = "1.2.840.113549.1.7.2";
const OID_SPC_INDIRECT_DATA = "1.3.6.1.4.1.311.2.1.4";
const OID_SPC_OPUS_INFO = "1.3.6.1.4.1.311.2.1.12";
const OID_NESTED_SIGNATURE = "1.3.6.1.4.1.311.2.4.1";
const OID_MS_COUNTERSIGN = "1.3.6.1.4.1.311.3.3.1";
const OID_COUNTERSIGNATURE = "1.2.840.113549.1.9.6";
const OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
const OID_CONTENT_TYPE = "1.2.840.113549.1.9.3";
const OID_SIGNING_TIME = "1.2.840.113549.1.9.5";

// ---------------------------------------------------------------------------------------------
// Times: UTCTime and GeneralizedTime in their DER forms only (with seconds, ending in Z).

function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function timeValue(b: Uint8Array, t: Tlv): bigint {
  if (t.cls !== 0 || t.cons || (t.tag !== 23 && t.tag !== 24)) throw new Uncertain("not a time");
  const s = Buffer.from(content(b, t)).toString("latin1");
  const m = t.tag === 23 ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
  if (!m) throw new Uncertain("time form");
  let year = Number(m[1]);
  if (t.tag === 23) year += year >= 50 ? 1900 : 2000;
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const mdays = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]! || h > 23 || mi > 59 || se > 59) throw new Uncertain("time out of range");
  return BigInt(daysFromCivil(year, mo, d)) * 86400n + BigInt(h * 3600 + mi * 60 + se);
}

// ---------------------------------------------------------------------------------------------
// X.509 (x509-parser 0.18, DER). A certificate is taken only in the plain form every CA writes;
// any other shape is one x509-parser might refuse (which ends the certificate list), so UNKNOWN.

/** A name: its DER bytes (compared whole, as X509Name's equality does) and its text. */
interface Name {
  raw: Uint8Array;
  text: string | Unknown;
}

interface Cert {
  raw: Uint8Array;
  version: bigint;
  serialRaw: Uint8Array;
  serial: bigint;
  issuer: Name;
  subject: Name;
  notBefore: bigint;
  notAfter: bigint;
  algOid: string;
  thumbprint: string;
  /** For the signature checks: the public key's algorithm, its parameters, the key, the signed part and its signature. */
  keyAlg: string;
  keyParams: Uint8Array | undefined;
  key: Uint8Array;
  tbs: Uint8Array;
  signature: Uint8Array;
}

function strict(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof Fail) throw new Uncertain(`x509: ${e.message}`);
    throw e;
  }
}

function printable(c: Uint8Array): boolean {
  for (const x of c) {
    const ok = (x >= 0x61 && x <= 0x7a) || (x >= 0x41 && x <= 0x5a) || (x >= 0x30 && x <= 0x39) || " '()+,-./:=?".includes(String.fromCharCode(x));
    if (!ok) return false;
  }
  return true;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** format_name's value: the string for the four string types it reads (when valid), else #hex. */
function attrValue(b: Uint8Array, t: Tlv): string {
  const c = content(b, t);
  const asText = (ok: boolean): string | undefined => {
    if (!ok) return undefined;
    try {
      return utf8.decode(c);
    } catch {
      return undefined;
    }
  };
  let s: string | undefined;
  if (t.cls === 0) {
    if (t.tag === 19) s = asText(printable(c));
    else if (t.tag === 12) s = asText(true);
    else if (t.tag === 22) s = asText(c.every((x) => x < 0x80));
    else if (t.tag === 20) s = asText(c.every((x) => x >= 0x20 && x <= 0x7f));
  }
  return s ?? `#${hex(c)}`;
}

/** X509Name::from_der plus format_name ("/C=US/O=.../CN=..."). */
function readName(c: Cursor): Name {
  const seq = c.take(SEQUENCE);
  const raw = whole(c.b, seq);
  let text: string | Unknown = "";
  const rdns = Cursor.in(c.b, seq);
  while (!rdns.done) {
    const set = rdns.take(SET);
    const atvs = Cursor.in(c.b, set);
    if (atvs.done) throw new Uncertain("empty RDN");
    if (text !== UNKNOWN) text += "/";
    while (!atvs.done) {
      const atv = Cursor.in(c.b, atvs.take(SEQUENCE));
      const key = oidName(readOid(atv));
      const value = atv.next();
      if (!atv.done) throw new Uncertain("trailing data in an attribute");
      if (key === UNKNOWN || text === UNKNOWN) text = UNKNOWN;
      else text += `${key}=${attrValue(c.b, value)}`;
    }
  }
  return { raw, text };
}

function readAlgorithm(c: Cursor): string {
  return readAlgorithmWithParams(c).oid;
}

function readAlgorithmWithParams(c: Cursor): { oid: string; params: Uint8Array | undefined } {
  const alg = Cursor.in(c.b, c.take(SEQUENCE));
  const oid = readOid(alg);
  const params = alg.done ? undefined : whole(c.b, alg.next());
  if (!alg.done) throw new Uncertain("trailing data in an AlgorithmIdentifier");
  return { oid, params };
}

function readBitString(c: Cursor): Uint8Array {
  const t = c.take(3);
  const v = content(c.b, t);
  if (v.length === 0 || v[0] !== 0) throw new Uncertain("unusual BIT STRING");
  return v.subarray(1);
}

function readCert(b: Uint8Array, t: Tlv): Cert {
  let cert: Cert | undefined;
  strict(() => {
    const outer = Cursor.in(b, expect(t, SEQUENCE));
    const tbsTlv = outer.take(SEQUENCE);
    const tbs = Cursor.in(b, tbsTlv);
    let version = 0n;
    const v = tbs.optional(0);
    if (v) {
      if (!v.cons) throw new Uncertain("primitive [0]");
      const vc = Cursor.in(b, v);
      const n = content(b, vc.take(2));
      if (!vc.done || n.length === 0 || n.length > 5 || n[0]! >= 0x80 || (n.length > 1 && n[0] === 0 && n[1]! < 0x80) || (n.length === 5 && n[0] !== 0)) {
        throw new Uncertain("unusual version");
      }
      version = biguint(n);
    }
    const serialTlv = tbs.next();
    if (serialTlv.tag !== 2 || serialTlv.cls !== 0 || serialTlv.cons) throw new Uncertain("serial is not an INTEGER");
    const serialRaw = content(b, serialTlv);
    readAlgorithm(tbs);
    const issuer = readName(tbs);
    const validity = Cursor.in(b, tbs.take(SEQUENCE));
    const notBefore = timeValue(b, validity.next());
    const notAfter = timeValue(b, validity.next());
    if (!validity.done) throw new Uncertain("trailing data in validity");
    const subject = readName(tbs);
    const spki = Cursor.in(b, tbs.take(SEQUENCE));
    const keyAlg = readAlgorithmWithParams(spki);
    const key = readBitString(spki);
    if (!spki.done) throw new Uncertain("trailing data in the public key");
    for (const n of [1, 2]) {
      const uid = tbs.optional(n);
      if (uid && (uid.cons || uid.end === uid.at || b[uid.at] !== 0)) throw new Uncertain("unusual unique id");
    }
    const ext = tbs.optional(3);
    if (ext) {
      if (!ext.cons) throw new Uncertain("primitive [3]");
      const list = Cursor.in(b, ext);
      const exts = Cursor.in(b, list.take(SEQUENCE));
      if (!list.done) throw new Uncertain("trailing data after the extensions");
      while (!exts.done) {
        const e = Cursor.in(b, exts.take(SEQUENCE));
        readOid(e);
        let next = e.next();
        if (next.tag === 1) {
          const crit = content(b, expect(next, 1));
          if (crit.length !== 1 || (crit[0] !== 0 && crit[0] !== 0xff)) throw new Uncertain("unusual BOOLEAN");
          next = e.next();
        }
        expect(next, 4);
        if (!e.done) throw new Uncertain("trailing data in an extension");
      }
    }
    if (!tbs.done) throw new Uncertain("trailing data in the TBS certificate");
    const algOid = readAlgorithm(outer);
    const signature = readBitString(outer);
    if (!outer.done) throw new Uncertain("trailing data in the certificate");
    const raw = whole(b, t);
    cert = {
      raw,
      version: version + 1n,
      serialRaw,
      serial: biguint(serialRaw),
      issuer,
      subject,
      notBefore,
      notAfter,
      algOid,
      thumbprint: createHash("sha1").update(raw).digest("hex"),
      keyAlg: keyAlg.oid,
      keyParams: keyAlg.params,
      key,
      tbs: whole(b, tbsTlv),
      signature,
    };
  });
  return cert!;
}

/** SignedData::parse_certificates: certificates until one does not parse (there, a non-SEQUENCE). */
function readCerts(b: Uint8Array, t: Tlv): Cert[] {
  const out: Cert[] = [];
  const c = Cursor.in(b, t);
  while (!c.done) {
    let next: Tlv;
    try {
      next = c.next();
    } catch (e) {
      if (e instanceof Fail) throw new Uncertain("truncated certificate");
      throw e;
    }
    if (next.tag !== SEQUENCE) break;
    out.push(readCert(b, next));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// PKCS#7 / CMS (asn1.rs): ContentInfo, SignedData, SignerInfo, attributes.

interface ContentInfo {
  type: string;
  /** The element inside [0]. */
  content: Tlv;
}

function readContentInfo(b: Uint8Array, t: Tlv): ContentInfo {
  const c = Cursor.in(b, expect(t, SEQUENCE));
  const type = readOid(c);
  const tagged = c.next();
  if (tagged.tag !== 0) throw new Fail("no [0] content");
  if (tagged.cls !== CONTEXT || !tagged.cons) throw new Uncertain("unusual [0]");
  const inner = tlv(b, tagged.at, tagged.end);
  return { type, content: inner };
}

interface Attribute {
  type: string;
  values: Tlv[];
}

/** SignerInfo::parse_attributes: attributes until the input ends (a truncated one ends it too). */
function readAttributes(b: Uint8Array, t: Tlv): Attribute[] {
  const out: Attribute[] = [];
  const c = Cursor.in(b, t);
  while (!c.done) {
    let a: Tlv;
    try {
      a = c.next();
    } catch (e) {
      if (e instanceof Incomplete) break;
      throw e;
    }
    try {
      const ac = Cursor.in(b, expect(a, SEQUENCE));
      const type = readOid(ac);
      const set = ac.take(SET);
      const values: Tlv[] = [];
      const vc = Cursor.in(b, set);
      while (!vc.done) values.push(vc.next());
      out.push({ type, values });
    } catch (e) {
      if (e instanceof Incomplete) throw new Uncertain("truncated attribute");
      throw e;
    }
  }
  return out;
}

interface SignerInfo {
  /** The signed attributes' content, as they are in the file (the signature covers them as a SET). */
  rawSignedAttrs: Uint8Array;
  issuer: Name;
  serial: bigint;
  digestAlg: string;
  signedAttrs: Attribute[];
  unsignedAttrs: Attribute[];
  signature: Uint8Array;
}

function readSignerInfo(b: Uint8Array, t: Tlv): SignerInfo {
  const c = Cursor.in(b, expect(t, SEQUENCE));
  const version = c.take(2);
  const ias = Cursor.in(b, c.take(SEQUENCE));
  let issuer: Name | undefined;
  strict(() => {
    issuer = readName(ias);
  });
  const serialTlv = ias.take(2);
  const serial = biguint(content(b, serialTlv));
  const digestAlg = readAlgorithm(c);
  const signed = c.optional(0);
  const signedAttrs = signed ? readAttributes(b, signed) : [];
  readAlgorithm(c);
  const sig = c.take(4);
  const unsigned = c.optional(1);
  const unsignedAttrs = unsigned ? readAttributes(b, unsigned) : [];
  smallInt(b, version);
  return { rawSignedAttrs: signed ? content(b, signed) : new Uint8Array(0), issuer: issuer!, serial, digestAlg, signedAttrs, unsignedAttrs, signature: content(b, sig) };
}

interface SignedData {
  version: number;
  digestAlgorithms: number;
  content: ContentInfo;
  certs: Cert[];
  signers: SignerInfo[];
}

function readSignedData(b: Uint8Array, t: Tlv): SignedData {
  const c = Cursor.in(b, expect(t, SEQUENCE));
  const version = c.take(2);
  const algs = Cursor.in(b, c.take(SET));
  let digestAlgorithms = 0;
  while (!algs.done) {
    const one = algs.next();
    readAlgorithm(new Cursor(b, one.start, one.end));
    digestAlgorithms++;
  }
  const content = readContentInfo(b, c.next());
  const certsTlv = c.optional(0);
  const certs = certsTlv ? readCerts(b, certsTlv) : [];
  c.optional(1);
  const signers: SignerInfo[] = [];
  const sc = Cursor.in(b, c.take(SET));
  while (!sc.done) signers.push(readSignerInfo(b, sc.next()));
  return { version: smallInt(b, version), digestAlgorithms, content, certs, signers };
}

/** get_signed_attr: the first value of the first attribute of that type. */
function signedAttr(si: SignerInfo, type: string): Tlv | undefined {
  return si.signedAttrs.find((a) => a.type === type)?.values[0];
}

function readOpusInfo(b: Uint8Array, t: Tlv): { program?: string; moreInfo?: string } | undefined {
  // A value that does not parse leaves both fields unset, as YARA-X's try_into().ok() does.
  const c = new Cursor(b, t.at, t.end);
  let program: string | undefined;
  try {
    const p = c.optional(0);
    if (p) program = spcString(b, p);
  } catch (e) {
    if (e instanceof Fail) return undefined;
    throw e;
  }
  let moreInfo: string | undefined;
  try {
    const m = c.optional(1);
    if (m) {
      const link = tlv(b, m.at, m.end);
      if (link.tag !== 0) throw new Fail("not a URL");
      if (link.cls !== CONTEXT || link.cons) throw new Uncertain("unusual SpcLink");
      moreInfo = ia5(content(b, link));
    }
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
  }
  return { program, moreInfo };
}

function ia5(c: Uint8Array): string {
  if (!c.every((x) => x < 0x80)) throw new Fail("non-ASCII IA5String");
  return Buffer.from(c).toString("latin1");
}

/** SpcString: [0] IMPLICIT BMPString (UTF-16BE) or [1] IMPLICIT IA5String; a bad one unsets the opus info. */
function spcString(b: Uint8Array, t: Tlv): string {
  const s = tlv(b, t.at, t.end);
  if (s.tag !== 0 && s.tag !== 1) throw new Fail("not an SpcString");
  if (s.cls !== CONTEXT || s.cons) throw new Uncertain("unusual SpcString");
  const c = content(b, s);
  if (s.tag === 1) return ia5(c);
  if (c.length % 2 !== 0) throw new Fail("odd UTF-16");
  let out = "";
  for (let i = 0; i < c.length; i += 2) {
    const u = (c[i]! << 8) | c[i + 1]!;
    if (u >= 0xd800 && u <= 0xdbff) {
      const lo = i + 3 < c.length ? (c[i + 2]! << 8) | c[i + 3]! : -1;
      if (lo < 0xdc00 || lo > 0xdfff) throw new Fail("unpaired surrogate");
      out += String.fromCharCode(u, lo);
      i += 2;
    } else if (u >= 0xdc00 && u <= 0xdfff) throw new Fail("unpaired surrogate");
    else out += String.fromCharCode(u);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Signatures (AuthenticodeParser::parse_content_info and the proto conversion).

interface CounterSig {
  /** The countersignature's check, made when `verified` is read. */
  verified?: () => Tri;
  signer: bigint;
  digestAlg: string | Unknown;
  digest: Uint8Array;
  signTime: bigint | undefined;
}

export interface Signature {
  certs: Cert[];
  signer: SignerInfo;
  signerIssuer: Name;
  signerDigestAlg: string;
  /** The signed messageDigest attribute (the digest of the SpcIndirectDataContent). */
  signerDigest: Uint8Array;
  program?: string;
  moreInfo?: string;
  /** The Authenticode digest stored in the file and its algorithm. */
  digest: Uint8Array;
  digestAlg: string;
  counters: CounterSig[];
  /** The content of the SpcIndirectDataContent, whose digest signerDigest must be. */
  signedContent: Uint8Array;
}

function pkcs9Counter(b: Uint8Array, si: SignerInfo): CounterSig {
  let digest: Uint8Array | undefined;
  let signTime: bigint | undefined;
  for (const a of si.signedAttrs) {
    if (a.type === OID_MESSAGE_DIGEST) {
      const v = a.values[0];
      digest = v ? content(b, v) : undefined;
    } else if (a.type === OID_SIGNING_TIME) {
      const v = a.values[0];
      signTime = v && v.tag === 23 && v.cls === 0 ? timeValue(b, v) : undefined;
      if (v && v.tag === 23 && v.cls !== 0) throw new Uncertain("unusual signing time");
    }
  }
  if (!digest) throw new Fail("countersignature without a digest");
  return { signer: si.serial, digestAlg: oidName(si.digestAlg), digest, signTime };
}

function readTstInfo(b: Uint8Array, t: Tlv): { alg: string; digest: Uint8Array } {
  const c = Cursor.in(b, expect(t, SEQUENCE));
  c.take(2);
  c.next();
  const imprint = Cursor.in(b, c.take(SEQUENCE));
  const alg = readAlgorithm(imprint);
  const digest = imprint.next();
  if (digest.tag !== 4 || digest.cls !== 0 || digest.cons) throw new Uncertain("unusual hashedMessage");
  return { alg, digest: content(b, digest) };
}

/** verify_message_digest. */
function digestMatches(alg: string, message: Uint8Array, digest: Uint8Array): Tri {
  if (!(alg in DIGESTS)) return false;
  const d = DIGESTS[alg];
  return d === undefined ? UNKNOWN : createHash(d).update(message).digest("hex") === hex(digest);
}

function msCounters(b: Uint8Array, a: Attribute, parent: SignerInfo, certs: Cert[], out: CounterSig[]): void {
  for (const v of a.values) {
    let sd: SignedData;
    try {
      if (v.tag !== SEQUENCE) continue;
      const ci = readContentInfo(b, v);
      if (ci.content.tag !== SEQUENCE) continue;
      sd = readSignedData(b, ci.content);
    } catch (e) {
      if (e instanceof Fail) continue;
      throw e;
    }
    certs.push(...sd.certs);
    const si = sd.signers[0];
    if (!si) continue;
    const cs = pkcs9Counter(b, si);
    const octets = sd.content.content;
    if (octets.cons) throw new Uncertain("constructed TSTInfo");
    let tst: { alg: string; digest: Uint8Array };
    try {
      tst = readTstInfo(b, tlv(b, octets.at, octets.end));
    } catch (e) {
      if (e instanceof Fail) continue;
      throw e;
    }
    const siDigest = signedAttr(si, OID_MESSAGE_DIGEST);
    if (!siDigest) throw new Fail("countersignature without a digest");
    // The certificates known at this point (later countersignatures add theirs after).
    const known = certs.slice();
    const tstBytes = content(b, octets);
    const verified = () =>
      and(
        () => digestMatches(tst.alg, parent.signature, tst.digest),
        () => digestMatches(si.digestAlg, tstBytes, content(b, siDigest)),
        () => verifySignerInfo(si, known),
      );
    out.push({ ...cs, digestAlg: oidName(tst.alg), digest: tst.digest, verified });
  }
}

function pkcs9Counters(b: Uint8Array, a: Attribute, parent: SignerInfo, certs: Cert[], out: CounterSig[]): void {
  for (const v of a.values) {
    let si: SignerInfo;
    try {
      si = readSignerInfo(b, v);
    } catch (e) {
      if (e instanceof Fail) continue;
      throw e;
    }
    const cs = pkcs9Counter(b, si);
    const known = certs.slice();
    out.push({ ...cs, verified: () => and(() => digestMatches(si.digestAlg, parent.signature, cs.digest), () => verifySignerInfo(si, known)) });
  }
}

function readSignatures(b: Uint8Array, t: Tlv, depth: number): Signature[] {
  if (depth > MAX_NESTING) throw new Uncertain("nested too deep");
  const ci = readContentInfo(b, t);
  if (ci.type !== OID_SIGNED_DATA) throw new Fail("not SignedData");
  const sd = readSignedData(b, ci.content);
  if (sd.version !== 1) throw new Fail("SignedData version");
  if (sd.digestAlgorithms !== 1) throw new Fail("digest algorithms");
  if (sd.content.type !== OID_SPC_INDIRECT_DATA) throw new Fail("not SpcIndirectDataContent");
  if (sd.signers.length !== 1) throw new Fail("signer count");
  const si = sd.signers[0]!;
  const md = signedAttr(si, OID_MESSAGE_DIGEST);
  if (!md) throw new Fail("no message digest");
  if (!signedAttr(si, OID_CONTENT_TYPE)) throw new Fail("no content type");
  const opusValue = signedAttr(si, OID_SPC_OPUS_INFO);
  const opus = opusValue ? readOpusInfo(b, opusValue) : undefined;

  // SpcIndirectDataContent: any element, then DigestInfo.
  const idc = sd.content.content;
  const ic = Cursor.in(b, expect(idc, SEQUENCE));
  ic.next();
  const di = Cursor.in(b, ic.take(SEQUENCE));
  const digestAlg = readAlgorithm(di);
  const digest = di.take(4);

  const certs = [...sd.certs];
  const nested: Signature[] = [];
  const counters: CounterSig[] = [];
  for (const a of si.unsignedAttrs) {
    if (a.type === OID_NESTED_SIGNATURE) {
      for (const v of a.values) {
        try {
          if (v.tag !== SEQUENCE) continue;
          nested.push(...readSignatures(b, v, depth + 1));
        } catch (e) {
          if (!(e instanceof Fail)) throw e;
        }
      }
    } else if (a.type === OID_MS_COUNTERSIGN) msCounters(b, a, si, certs, counters);
    else if (a.type === OID_COUNTERSIGNATURE) pkcs9Counters(b, a, si, certs, counters);
  }
  if (!(si.digestAlg in DIGESTS)) throw new Fail("unknown digest algorithm");

  const sig: Signature = {
    certs,
    signer: si,
    signerIssuer: si.issuer,
    signerDigestAlg: si.digestAlg,
    signerDigest: content(b, md),
    program: opus?.program,
    moreInfo: opus?.moreInfo,
    digest: content(b, digest),
    digestAlg,
    counters,
    signedContent: content(b, idc),
  };
  return [sig, ...nested];
}

/** parse_signatures: WIN_CERTIFICATE entries, 8-byte aligned, until one does not parse. */
export function parseCertificateTable(table: Uint8Array): Signature[] | Unknown {
  const out: Signature[] = [];
  let pos = 0;
  try {
    while (pos + 8 <= table.length) {
      const len = (table[pos]! | (table[pos + 1]! << 8) | (table[pos + 2]! << 16)) + table[pos + 3]! * 0x1000000;
      if (len < 8 || pos + len > table.length) break;
      let sigs: Signature[];
      try {
        const blob = table.subarray(pos + 8, pos + len);
        sigs = readSignatures(blob, tlv(blob, 0, blob.length), 0);
      } catch (e) {
        if (e instanceof Fail) break;
        throw e;
      }
      const next = pos + Math.ceil(len / 8) * 8;
      if (next > table.length) break;
      out.push(...sigs);
      pos = next;
    }
  } catch (e) {
    if (e instanceof Uncertain) return UNKNOWN;
    throw e;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Signature checks (crypto.rs and verify_signer_info): RSA PKCS#1 v1.5 as the rsa crate checks it
// (a key it accepts, a signature of the modulus' length, the padded digest with or without its
// DigestInfo prefix). DSA and ECDSA keys on the curves YARA-X supports are UNKNOWN.

/** DER of the digests' OIDs, for the DigestInfo prefix (pkcs1v15_generate_prefix). */
const DIGEST_OIDS: Record<string, string> = {
  md5: "2a864886f70d0205",
  sha1: "2b0e03021a",
  sha256: "608648016503040201",
  sha384: "608648016503040202",
  sha512: "608648016503040203",
};

/** PublicKey::verify's digests by signature algorithm (MD2 ones undefined: not available here). */
const SIGNATURE_DIGESTS: Record<string, string | undefined> = {
  ...DIGESTS,
  "1.2.840.10040.4.3": "sha1",
  "2.16.840.1.101.3.4.3.2": "sha256",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};

type Tri = boolean | Unknown;
/** Three-valued AND: false if any is false, else UNKNOWN if any is. */
function and(...v: (() => Tri)[]): Tri {
  let unknown = false;
  for (const f of v) {
    const x = f();
    if (x === false) return false;
    if (x === UNKNOWN) unknown = true;
  }
  return unknown ? UNKNOWN : true;
}

type Key = { n: bigint; e: bigint; size: number } | "invalid" | Unknown;

function bits(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** PublicKey::try_from: an RSA key the rsa crate accepts; "invalid" where it returns an error. */
function publicKey(c: Cert): Key {
  if (c.keyAlg === "1.2.840.10040.4.1") return UNKNOWN;
  if (c.keyAlg === "1.2.840.10045.2.1") {
    if (!c.keyParams) return "invalid";
    try {
      const p = tlv(c.keyParams, 0, c.keyParams.length);
      if (p.tag !== 6) return "invalid";
      const curve = oidText(c.keyParams, p);
      return curve === "1.2.840.10045.3.1.7" || curve === "1.3.132.0.34" ? UNKNOWN : "invalid";
    } catch {
      return UNKNOWN;
    }
  }
  if (c.keyAlg !== "1.2.840.113549.1.1.1") return "invalid";
  const b = c.key;
  const uint = (t: Tlv): bigint | undefined => {
    const v = content(b, t);
    if (t.tag !== 2 || t.cls !== 0 || t.cons || v.length === 0 || v[0]! >= 0x80 || (v.length > 1 && v[0] === 0 && v[1]! < 0x80)) return undefined;
    return biguint(v);
  };
  let n: bigint | undefined;
  let e: bigint | undefined;
  try {
    const seq = tlv(b, 0, b.length);
    if (seq.tag !== SEQUENCE || seq.cls !== 0 || !seq.cons || seq.end !== b.length) return UNKNOWN;
    const c2 = Cursor.in(b, seq);
    n = uint(c2.next());
    e = uint(c2.next());
    if (!c2.done) return UNKNOWN;
  } catch {
    return UNKNOWN;
  }
  if (n === undefined || e === undefined) return UNKNOWN;
  if (bits(n) > 4096 || e >= 1n << 64n || e >= n || n % 2n === 0n || e % 2n === 0n || e < 2n || e > (1n << 33n) - 1n) return "invalid";
  return { n, e, size: Math.ceil(bits(n) / 8) };
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let r = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % mod;
    b = (b * b) % mod;
  }
  return r;
}

/** Pkcs1v15Sign::verify, prefixed and then unprefixed (verify_digest). */
function rsaVerify(key: { n: bigint; e: bigint; size: number }, digest: string, hashed: Uint8Array, sig: Uint8Array): boolean {
  const s = biguint(sig);
  if (s >= key.n || sig.length !== key.size) return false;
  const em = modPow(s, key.e, key.n).toString(16).padStart(key.size * 2, "0");
  const h = hex(hashed);
  const prefix = DIGEST_OIDS[digest]!;
  const oidLen = prefix.length / 2;
  const info = [0x30, oidLen + 8 + hashed.length, 0x30, oidLen + 4, 6, oidLen].map((x) => x.toString(16).padStart(2, "0")).join("") +
    prefix + "0500" + "04" + hashed.length.toString(16).padStart(2, "0");
  for (const t of [info + h, h]) {
    const tLen = t.length / 2;
    if (key.size < tLen + 11) continue;
    if (em === "0001" + "ff".repeat(key.size - tLen - 3) + "00" + t) return true;
  }
  return false;
}

/** PublicKey::verify / verify_digest over `message` with `digest` (a node:crypto name). */
function keyVerify(key: Key, digest: string | undefined, message: Uint8Array, sig: Uint8Array): Tri {
  if (key === "invalid") return false;
  if (key === UNKNOWN || digest === undefined) return UNKNOWN;
  return rsaVerify(key, digest, createHash(digest).update(message).digest(), sig);
}

/** verify_signer_info: the chain from the signing certificate, then the signed attributes' signature. */
function verifySignerInfo(si: SignerInfo, certs: Cert[]): Tri {
  if (!(si.digestAlg in DIGESTS)) return false;
  const digest = DIGESTS[si.digestAlg];
  const path = chain(certs, (c) => c.serial === si.serial);
  // A crafted chain of thousands of certificates would cost as many RSA operations.
  if (path.length > MAX_CHAIN) return UNKNOWN;
  const links = path.slice(1).map((signer, i) => () => {
    const signed = path[i]!;
    const alg = signed.algOid;
    // An algorithm PublicKey::verify does not know fails whatever the key.
    if (!(alg in SIGNATURE_DIGESTS)) return false;
    return keyVerify(publicKey(signer), SIGNATURE_DIGESTS[alg], signed.tbs, signed.signature);
  });
  return and(...links, () => {
    const cert = certs.find((c) => c.serial === si.serial);
    if (!cert) return false;
    const len = si.rawSignedAttrs.length;
    const header = len < 0x80 ? [0x31, len] : [0x31, 0x80 | Math.ceil(bits(BigInt(len)) / 8), ...Array.from(BigInt(len).toString(16).padStart(Math.ceil(bits(BigInt(len)) / 8) * 2, "0").match(/../g)!, (x) => parseInt(x, 16))];
    const set = new Uint8Array([...header, ...si.rawSignedAttrs]);
    return keyVerify(publicKey(cert), digest, set, si.signature);
  });
}

// ---------------------------------------------------------------------------------------------
// The PE side: the table's bytes, the Authenticode hash of the file, and the module values.

/** The certificate table (its "address" is a file offset), [] when absent, UNKNOWN when too big. */
function tableOf(pe: PeFile): Uint8Array | undefined | Unknown {
  const e = pe.dirEntry(DIR_SECURITY);
  if (!e) return UNKNOWN;
  const len = pe.data.length;
  const end = Math.min(len, Math.min(0xffffffff, e.addr + e.size));
  if (e.addr > end) return undefined;
  if (end - e.addr > MAX_TABLE) return UNKNOWN;
  return pe.data.subarray(e.addr, end).bytes();
}

/**
 * The Authenticode hash as YARA-X computes it (AuthenticodeHasher for PE): the headers without
 * the checksum and the security entry, the sections by file offset, then what follows them up to
 * the certificate table's declared size from the end. A range outside the file ends the hashing
 * there, and the digest is of what was hashed so far, as in YARA-X.
 */
function authenticodeHash(pe: PeFile, algorithm: string): string {
  const h = createHash(algorithm);
  const d = pe.data;
  const add = (start: number, end: number): boolean => {
    if (start > end || end > d.length) return false;
    d.file.each(d.base + start, d.base + end, (piece) => h.update(piece));
    return true;
  };
  const run = (): void => {
    const headersAt = pe.h.eLfanew + 4 + 20;
    const checksumAt = headersAt + 64;
    const securityAt = headersAt + (pe.h.opt.magic === MAGIC_PE64 ? 112 : 96) + 8 * DIR_SECURITY;
    const e = pe.dirEntry(DIR_SECURITY);
    if (!e) return;
    if (!add(0, checksumAt) || !add(checksumAt + 4, securityAt) || !add(securityAt + 8, pe.h.opt.sizeOfHeaders)) return;
    let hashed = pe.h.opt.sizeOfHeaders;
    const sections = [...pe.h.sections].sort((a, b) => a.rawDataOffset - b.rawDataOffset);
    for (const s of sections) {
      if (!add(s.rawDataOffset, s.rawDataOffset + s.rawDataSize)) return;
      hashed += s.rawDataSize;
    }
    const extra = d.length - e.size - hashed;
    if (d.length < e.size || extra < 0) return;
    add(hashed, hashed + extra);
  };
  run();
  return h.digest("hex");
}

/** Sections at one file offset with different sizes: their order (an unstable sort in YARA-X) is not known. */
function ambiguousOrder(pe: PeFile): boolean {
  const seen = new Map<number, number>();
  for (const s of pe.h.sections) {
    const size = seen.get(s.rawDataOffset);
    if (size !== undefined && size !== s.rawDataSize) return true;
    seen.set(s.rawDataOffset, s.rawDataSize);
  }
  return false;
}

const bySubjectCache = new WeakMap<Cert[], Map<string, Cert>>();
const nameKey = (n: Name): string => Buffer.from(n.raw.buffer, n.raw.byteOffset, n.raw.length).toString("latin1");

/** The first certificate of the list with each subject (what `find` by subject returns), built once. */
function bySubject(certs: Cert[]): Map<string, Cert> {
  let m = bySubjectCache.get(certs);
  if (!m) {
    m = new Map();
    for (const c of certs) {
      const k = nameKey(c.subject);
      if (!m.has(k)) m.set(k, c);
    }
    bySubjectCache.set(certs, m);
  }
  return m;
}

/** CertificateChain: from the first certificate that `start` picks, up by issuer, no subject twice. */
function chain(certs: Cert[], start: (c: Cert) => boolean): Cert[] {
  const out: Cert[] = [];
  const seen = new Set<string>();
  const index = bySubject(certs);
  let next = certs.find(start);
  while (next) {
    out.push(next);
    const cur: Cert = next;
    const issuer = nameKey(cur.issuer);
    if (nameKey(cur.subject) === issuer) break;
    next = index.get(issuer);
    if (next) {
      if (seen.has(issuer)) break;
      seen.add(issuer);
    }
  }
  return out;
}

const str = (s: string | Unknown | undefined): Value => (s === undefined || s === UNKNOWN ? s : toBytes(s));

function certValue(c: Cert): StructValue {
  return struct({
    issuer: () => str(c.issuer.text),
    subject: () => str(c.subject.text),
    thumbprint: () => toBytes(c.thumbprint),
    version: () => int(c.version),
    algorithm: () => str(oidName(c.algOid)),
    algorithm_oid: () => toBytes(c.algOid),
    serial: () => toBytes(Array.from(c.serialRaw, (x) => x.toString(16).padStart(2, "0")).join(":")),
    not_before: () => int(c.notBefore),
    not_after: () => int(c.notAfter),
  });
}

/** The signatures of one PE file, parsed on first use. */
export class Authenticode {
  private list: Signature[] | Unknown | null = null;
  private hashes = new Map<string, string>();

  constructor(private readonly pe: PeFile) {}

  signatures(): Signature[] | Unknown {
    if (this.list !== null) return this.list;
    const table = tableOf(this.pe);
    return (this.list = table === UNKNOWN ? UNKNOWN : table === undefined ? [] : parseCertificateTable(table));
  }

  /** file_digest: the file's Authenticode hash with the signer's digest algorithm. */
  fileDigest(s: Signature): string | Unknown {
    const alg = DIGESTS[s.signerDigestAlg];
    if (alg === undefined || ambiguousOrder(this.pe)) return UNKNOWN;
    let v = this.hashes.get(alg);
    if (v === undefined) this.hashes.set(alg, (v = authenticodeHash(this.pe, alg)));
    return v;
  }

  /**
   * verified: the stored hash is the file's, the signed attributes hold the content's digest, and
   * the signer's signature and certificate chain check (UNKNOWN where a check is not made here).
   */
  verified(s: Signature): boolean | Unknown {
    const alg = DIGESTS[s.signerDigestAlg];
    return and(
      () => {
        const file = this.fileDigest(s);
        return file === UNKNOWN ? UNKNOWN : file === hex(s.digest);
      },
      () => (alg === undefined ? UNKNOWN : createHash(alg).update(s.signedContent).digest("hex") === hex(s.signerDigest)),
      () => verifySignerInfo(s.signer, s.certs),
    );
  }

  isSigned(): boolean | Unknown {
    const l = this.signatures();
    if (l === UNKNOWN) return UNKNOWN;
    let unknown = false;
    for (const s of l) {
      const v = this.verified(s);
      if (v === true) return true;
      if (v === UNKNOWN) unknown = true;
    }
    return unknown ? UNKNOWN : false;
  }

  values(): StructValue[] | Unknown {
    const l = this.signatures();
    if (l === UNKNOWN) return UNKNOWN;
    return l.map((s) => this.signatureValue(s));
  }

  private signatureValue(s: Signature): StructValue {
    const signerChain = chain(s.certs, (c) => Buffer.compare(c.issuer.raw, s.signerIssuer.raw) === 0);
    const first = signerChain[0];
    const top = first ? certValue(first) : undefined;
    const field = (name: string): (() => Value) => () => (top ? top.field(name) : undefined);
    return struct({
      subject: field("subject"),
      issuer: field("issuer"),
      thumbprint: field("thumbprint"),
      version: field("version"),
      algorithm: field("algorithm"),
      algorithm_oid: field("algorithm_oid"),
      serial: field("serial"),
      not_before: field("not_before"),
      not_after: field("not_after"),
      verified: () => this.verified(s),
      digest_alg: () => str(oidName(s.digestAlg)),
      digest: () => toBytes(hex(s.digest)),
      file_digest: () => str(this.fileDigest(s)),
      number_of_certificates: () => int(s.certs.length),
      number_of_countersignatures: () => int(s.counters.length),
      signer_info: () =>
        struct({
          program_name: () => str(s.program),
          more_info: () => str(s.moreInfo),
          digest: () => toBytes(hex(s.signerDigest)),
          digest_alg: () => str(oidName(s.signerDigestAlg)),
          chain: () => array(() => signerChain.map(certValue)),
        }),
      certificates: () => array(() => s.certs.map(certValue)),
      countersignatures: () =>
        array(() =>
          s.counters.map((cs) =>
            struct({
              verified: () => (cs.verified ? cs.verified() : UNKNOWN),
              sign_time: () => (cs.signTime === undefined ? undefined : int(cs.signTime)),
              digest: () => toBytes(hex(cs.digest)),
              digest_alg: () => str(cs.digestAlg),
              chain: () => array(() => chain(s.certs, (c) => c.serial === cs.signer).map(certValue)),
            }),
          ),
        ),
      valid_on: () =>
        func((a) => {
          if (a.length !== 1 || typeof a[0] !== "bigint") return UNKNOWN;
          if (!first) return undefined;
          return a[0] >= first.notBefore && a[0] <= first.notAfter;
        }),
    });
  }
}
