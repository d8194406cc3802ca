// A one-line progress bar on stderr, redrawn at most 10 times a second; silent when not a terminal.
export function progressBar(out: NodeJS.WritableStream, enabled: boolean) {
  let last = 0
  let shown = false
  return {
    update(label: string, done: number, total: number) {
      if (!enabled) return
      const now = Date.now()
      if (now - last < 100 && done < total) return
      last = now
      const width = 28
      const frac = total > 0 ? Math.min(1, done / total) : 0
      const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░')
      out.write(
        `\r${label.padEnd(10)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${(done / 1048576).toFixed(1)}/${(total / 1048576).toFixed(1)} MiB`,
      )
      shown = true
    },
    note(line: string) {
      if (!enabled) return
      out.write(`${shown ? '\n' : ''}${line}\n`)
      shown = false
    },
    end() {
      if (enabled && shown) out.write('\n')
      shown = false
    },
  }
}
