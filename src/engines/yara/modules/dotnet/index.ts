// YARA-X's `dotnet` module for the fast path: every field of dotnet.proto with YARA-X 1.20's
// values, from the scanned bytes only. The CLI header and metadata root are read on the first
// field access; the tables, heaps and user types each on first use (metadata.ts, tables.ts,
// assembly.ts). A stream too large to hold makes the fields that need it UNKNOWN, never a guess.
import { UNKNOWN, type ByteSource, type ModuleFactory, type StructValue, type Value } from "../../contracts";
import { FileReader } from "../../reader";
import { Bytes } from "../pe/bytes";
import { array, int, struct, type Fields } from "../pe/values";
import { lazyStruct } from "../util";
import { Assembly, bytesOf, guids, userStrings, type Class, type Method, type Version } from "./assembly";
import { parseMetadata, TooLarge, type Metadata } from "./metadata";

/** A field's value, UNKNOWN when it needs a stream larger than ring3 holds. */
function guard(get: () => Value): () => Value {
  return () => {
    try {
      return get();
    } catch (e) {
      if (e instanceof TooLarge) return UNKNOWN;
      throw e;
    }
  };
}

const text = (s: string | undefined): Uint8Array | undefined => (s === undefined ? undefined : bytesOf(s));
/** A list; UNKNOWN when it needs a stream larger than ring3 holds. */
const list = (items: () => Value[]) =>
  array(() => {
    try {
      return items();
    } catch (e) {
      if (e instanceof TooLarge) return UNKNOWN;
      throw e;
    }
  });

function version(v: Version | undefined): StructValue {
  return struct({
    major: () => (v ? int(v.major) : undefined),
    minor: () => (v ? int(v.minor) : undefined),
    build_number: () => (v ? int(v.build) : undefined),
    revision_number: () => (v ? int(v.revision) : undefined),
  });
}

/** The few fixed words (visibilities, "class", "interface") as bytes, encoded once. */
const WORDS = new Map<string, Uint8Array>();
const word = (s: string): Uint8Array => {
  let b = WORDS.get(s);
  if (!b) WORDS.set(s, (b = bytesOf(s)));
  return b;
};

/**
 * A method: a rule that walks every method of every class reads tens of thousands of them, so
 * this struct is one object with its values read on demand (no closures, no cache map).
 */
class MethodValue implements StructValue {
  readonly kind = "struct";
  private nameBytes: Uint8Array | undefined;
  constructor(private readonly m: Method) {}
  field(name: string): Value {
    const m = this.m;
    switch (name) {
      case "name":
        return (this.nameBytes ??= bytesOf(m.name));
      case "visibility":
        return word(m.visibility);
      case "abstract":
        return m.abstract;
      case "static":
        return m.static;
      case "virtual":
        return m.virtual;
      case "final":
        return m.final;
      case "return_type":
        return text(m.returnType);
      case "number_of_generic_parameters":
        return int(m.genericParams.length);
      case "number_of_parameters":
        return int(m.params.length);
      case "generic_parameters":
        return array(() => m.genericParams.map(bytesOf));
      case "parameters":
        return array(() => m.params.map((p) => struct({ name: () => bytesOf(p.name), type: () => bytesOf(p.type) })));
      default:
        return UNKNOWN;
    }
  }
}

function klass(c: Class): StructValue {
  // rsplit_once('.') of the full name: the namespace before the last dot, the name after it.
  const dot = c.fullName === undefined ? -1 : c.fullName.lastIndexOf(".");
  const name = c.fullName === undefined ? undefined : dot < 0 ? c.fullName : c.fullName.slice(dot + 1);
  const namespace = c.fullName === undefined || dot < 0 ? undefined : c.fullName.slice(0, dot);
  return struct({
    fullname: () => text(c.fullName),
    name: () => text(name),
    namespace: () => text(namespace),
    visibility: () => word(c.visibility),
    type: () => word(c.type),
    abstract: () => c.abstract,
    sealed: () => c.sealed,
    number_of_base_types: () => int(c.baseTypes.length),
    number_of_generic_parameters: () => int(c.genericParams.length),
    number_of_methods: guard(() => int(c.methods().length)),
    base_types: () => array(() => c.baseTypes.map(bytesOf)),
    generic_parameters: () => array(() => c.genericParams.map(bytesOf)),
    methods: () => list(() => c.methods().map((m) => new MethodValue(m))),
  });
}

/** The fields of a file that is not .NET: is_dotnet false, empty lists, everything else undefined. */
function notDotnet(): Fields {
  const none = () => undefined;
  const empty = () => array(() => []);
  return {
    is_dotnet: () => false,
    module_name: none,
    version: none,
    number_of_streams: none,
    number_of_guids: none,
    number_of_resources: none,
    number_of_generic_parameters: none,
    number_of_classes: none,
    number_of_assembly_refs: none,
    number_of_modulerefs: none,
    number_of_user_strings: none,
    number_of_constants: none,
    number_of_field_offsets: none,
    typelib: none,
    streams: empty,
    guids: empty,
    constants: empty,
    assembly: () => struct({ name: none, culture: none, version: () => version(undefined) }),
    assembly_refs: empty,
    resources: empty,
    classes: empty,
    field_offsets: empty,
    user_strings: empty,
    modulerefs: empty,
  };
}

function dotnetFields(m: Metadata): Fields {
  let asm: Assembly | undefined;
  const a = () => (asm ??= new Assembly(m));
  let classes: Class[] | undefined;
  const cls = () => (classes ??= a().classes());
  let us: Uint8Array[] | undefined;
  const strings = () => (us ??= userStrings(m));
  let gs: Uint8Array[] | undefined;
  const gids = () => (gs ??= guids(m));
  const count = (n: () => number) => guard(() => int(n()));
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  return {
    is_dotnet: () => true,
    module_name: guard(() => text(a().moduleName())),
    version: () => m.version,
    number_of_streams: () => int(m.streams.length),
    number_of_guids: count(() => gids().length),
    number_of_resources: count(() => a().resources().length),
    // In dotnet.proto but never set by YARA-X.
    number_of_generic_parameters: () => undefined,
    number_of_classes: count(() => cls().length),
    number_of_assembly_refs: count(() => a().assemblyRefs().length),
    number_of_modulerefs: count(() => a().moduleRefs().length),
    number_of_user_strings: count(() => strings().length),
    number_of_constants: count(() => a().constants().length),
    number_of_field_offsets: count(() => a().fieldOffsets().length),
    typelib: guard(() => a().typelib()),
    streams: () =>
      array(() =>
        m.streams.map((s) =>
          struct({
            name: () => {
              try {
                utf8.decode(s.name);
                return s.name;
              } catch {
                return undefined;
              }
            },
            offset: () => int(s.offset),
            size: () => int(s.size),
          }),
        ),
      ),
    guids: () => list(gids),
    constants: () => list(() => a().constants()),
    assembly: guard(() => {
      const x = a().assembly();
      const none = () => undefined;
      if (!x) return struct({ name: none, culture: none, version: () => version(undefined) });
      return struct({ name: () => text(x.name), culture: () => text(x.culture), version: () => version(x.version) });
    }),
    assembly_refs: () =>
      list(() =>
        a()
          .assemblyRefs()
          .map((r) => struct({ name: () => text(r.name), public_key_or_token: () => r.publicKeyOrToken, version: () => version(r.version) })),
      ),
    resources: () =>
      list(() =>
        a()
          .resources()
          .map((r) =>
            struct({
              offset: () => (r.offset === undefined ? undefined : int(r.offset)),
              length: () => (r.length === undefined ? undefined : int(r.length)),
              name: () => text(r.name),
            }),
          ),
      ),
    classes: () => list(() => cls().map(klass)),
    field_offsets: () => list(() => a().fieldOffsets().map(int)),
    user_strings: () => list(strings),
    modulerefs: () => list(() => a().moduleRefs().map(bytesOf)),
  };
}

export const dotnet: ModuleFactory = {
  name: "dotnet",
  load(source: ByteSource): StructValue {
    // Nothing is read until the first field access.
    return lazyStruct(() => {
      const file = FileReader.from(source);
      let m: Metadata | undefined;
      try {
        m = parseMetadata(new Bytes(file, 0, file.size));
      } catch (e) {
        if (!(e instanceof TooLarge)) throw e;
        return { kind: "struct", field: () => UNKNOWN };
      }
      return struct(m ? dotnetFields(m) : notDotnet());
    });
  },
};
