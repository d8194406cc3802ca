// Adapts the byte streams callers have (async iterables, iterables, WHATWG ReadableStreams) to one
// async-iterable shape, so large payloads are processed chunk by chunk and never held whole.

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>

function isReadableStream(x: unknown): x is ReadableStream<Uint8Array> {
  return typeof x === 'object' && x !== null && typeof (x as ReadableStream).getReader === 'function'
}

/** Iterates any ByteSource; ReadableStreams are read through a reader (works where they are not async-iterable). */
export async function* iterateBytes(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (isReadableStream(source)) {
    const reader = source.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        yield value
      }
    } finally {
      reader.releaseLock()
    }
  }
  yield* source as AsyncIterable<Uint8Array> | Iterable<Uint8Array>
}

/** Wraps an async iterable as a ReadableStream (for fetch bodies and TransformStream pipelines). */
export function toReadableStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await it.next()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    async cancel(reason) {
      await it.return?.(reason)
    },
  })
}

/** Collects a source into one buffer — for tests and small payloads only. */
export async function collectBytes(source: ByteSource): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let n = 0
  for await (const p of iterateBytes(source)) {
    parts.push(p)
    n += p.length
  }
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
