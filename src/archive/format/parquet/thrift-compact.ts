/**
 * The part of Thrift's compact protocol that Parquet's footer and page headers need: structs of i32, i64,
 * bool, binary, nested structs and lists. Written forward into one growing buffer.
 *
 *   field header: (delta << 4) | type when the id grows by 1..15, else type then the id as a zigzag varint
 *   i32, i64:     zigzag varint        binary: varint length, bytes
 *   bool field:   its value in the type nibble (1 true, 2 false)
 *   list header:  (size << 4) | element type when size < 15, else 0xF0 | type then size as a varint
 *   struct:       its fields, then 0 (stop)
 */

/** Compact-protocol type ids. */
export const T = {
  TRUE: 1,
  FALSE: 2,
  I32: 5,
  I64: 6,
  BINARY: 8,
  LIST: 9,
  STRUCT: 12,
} as const;

export class ThriftWriter {
  private buf = Buffer.allocUnsafe(4096);
  private pos = 0;
  /** Last field id of each open struct. */
  private readonly lastIds: number[] = [0];

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned varint of a non-negative integer up to 2^53. */
  private varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  private zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  private fieldHeader(id: number, type: number): void {
    const last = this.lastIds[this.lastIds.length - 1];
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastIds[this.lastIds.length - 1] = id;
  }

  i32(id: number, value: number): this {
    this.fieldHeader(id, T.I32);
    this.zigzag(value);
    return this;
  }

  i64(id: number, value: number): this {
    this.fieldHeader(id, T.I64);
    this.zigzag(value);
    return this;
  }

  bool(id: number, value: boolean): this {
    this.fieldHeader(id, value ? T.TRUE : T.FALSE);
    return this;
  }

  binary(id: number, value: string | Uint8Array): this {
    this.fieldHeader(id, T.BINARY);
    this.rawBinary(value);
    return this;
  }

  private rawBinary(value: string | Uint8Array): void {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Opens a struct-valued field; close it with `end()`. */
  struct(id: number): this {
    this.fieldHeader(id, T.STRUCT);
    this.lastIds.push(0);
    return this;
  }

  /** Ends the innermost struct (also the top-level one). */
  end(): this {
    this.byte(0);
    if (this.lastIds.length > 1) this.lastIds.pop();
    return this;
  }

  /** A list of structs: `each` writes the fields of element i (without its stop byte). */
  structList(id: number, count: number, each: (i: number) => void): this {
    this.listHeader(id, count, T.STRUCT);
    for (let i = 0; i < count; i++) {
      this.lastIds.push(0);
      each(i);
      this.end();
    }
    return this;
  }

  i32List(id: number, values: readonly number[]): this {
    this.listHeader(id, values.length, T.I32);
    for (const v of values) this.zigzag(v);
    return this;
  }

  stringList(id: number, values: readonly string[]): this {
    this.listHeader(id, values.length, T.BINARY);
    for (const v of values) this.rawBinary(v);
    return this;
  }

  private listHeader(id: number, count: number, type: number): void {
    this.fieldHeader(id, T.LIST);
    if (count < 15) this.byte((count << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(count);
    }
  }

  /** The bytes written so far. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
