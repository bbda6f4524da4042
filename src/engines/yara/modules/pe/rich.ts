// The Rich header (parser.rs parse_rich_header): the last "Rich" tag before the PE header, the XOR
// key after it, the last encrypted "DanS" before it; the tools are (version, toolid, times) triples
// after 16 bytes of DanS and padding, whatever the padding holds.
import { rfind, u16, u32 } from "./bytes";

export interface RichHeader {
  offset: number;
  key: number;
  rawData: Uint8Array;
  clearData: Uint8Array;
  tools: { version: number; toolid: number; times: number }[];
}

const RICH = new Uint8Array([0x52, 0x69, 0x63, 0x68]);
const DANS = 0x536e6144;

/** `stub` is the file up to e_lfanew. */
export function parseRich(stub: Uint8Array): RichHeader | undefined {
  const richAt = rfind(stub, RICH);
  if (richAt < 0) return undefined;
  const key = u32(stub, richAt + 4);
  if (key === undefined) return undefined;
  const dans = (key ^ DANS) >>> 0;
  const dansBytes = new Uint8Array([dans & 0xff, (dans >>> 8) & 0xff, (dans >>> 16) & 0xff, dans >>> 24]);
  const dansAt = rfind(stub, dansBytes, richAt);
  if (dansAt < 0) return undefined;
  const rawData = stub.subarray(dansAt, richAt);
  const clearData = rawData.slice();
  for (let i = 0; i < clearData.length; i++) clearData[i]! ^= (key >>> ((i % 4) * 8)) & 0xff;
  const tools: RichHeader["tools"] = [];
  if (clearData.length >= 16) {
    for (let at = 16; at + 8 <= clearData.length; at += 8) {
      tools.push({ version: u16(clearData, at)!, toolid: u16(clearData, at + 2)!, times: u32(clearData, at + 4)! });
    }
  }
  return { offset: dansAt, key, rawData, clearData, tools };
}
