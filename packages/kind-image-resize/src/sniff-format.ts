/** Formats recognised by their leading bytes. `heif` is HEIF without an AVIF brand (HEIC, usually
 * HEVC-coded); whether it can be decoded is decided later from the header. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heif' | 'tiff';

/** Enough leading bytes for every signature below, including a few ftyp compatible brands. */
export const SNIFF_BYTES = 64;

const JPEG = [0xff, 0xd8, 0xff];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const TIFF_LITTLE_ENDIAN = [0x49, 0x49, 0x2a, 0x00];
const TIFF_BIG_ENDIAN = [0x4d, 0x4d, 0x00, 0x2a];
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/**
 * The image format from magic numbers alone. A file's name and declared content type are the
 * client's claims; these bytes are what the decoder will actually see, so a text file named
 * `.png` is refused here instead of deep inside the decoder. Unknown → undefined.
 */
export function sniffImageFormat(head: Uint8Array): ImageFormat | undefined {
  if (startsWith(head, JPEG)) return 'jpeg';
  if (startsWith(head, PNG)) return 'png';
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'webp';
  const gif = ascii(head, 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') return 'gif';
  if (startsWith(head, TIFF_LITTLE_ENDIAN) || startsWith(head, TIFF_BIG_ENDIAN)) return 'tiff';
  return sniffHeifFamily(head);
}

/**
 * AVIF and HEIC are ISO base media files: a leading `ftyp` box (32-bit size, 'ftyp', major brand,
 * minor version, compatible brands…). An AVIF brand anywhere wins, because AVIF files also list
 * the generic HEIF brand `mif1`. Other ftyp files (MP4, MOV, …) are not images.
 */
function sniffHeifFamily(head: Uint8Array): ImageFormat | undefined {
  if (head.length < 16 || ascii(head, 4, 8) !== 'ftyp') return undefined;
  const boxSize = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0);
  const end = Math.min(boxSize, head.length);
  const brands = [ascii(head, 8, 12)];
  for (let offset = 16; offset + 4 <= end; offset += 4) brands.push(ascii(head, offset, offset + 4));
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  if (brands.some((brand) => HEIF_BRANDS.has(brand))) return 'heif';
  return undefined;
}

function startsWith(head: Uint8Array, signature: readonly number[]): boolean {
  return head.length >= signature.length && signature.every((byte, index) => head[index] === byte);
}

function ascii(head: Uint8Array, start: number, end: number): string {
  return head.length < end ? '' : String.fromCharCode(...head.subarray(start, end));
}
