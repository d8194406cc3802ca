// Preloaded into a child process by a benchmark: reports the process's peak resident memory on exit.
process.on('exit', () => {
  process.stderr.write(`\nMAX_RSS_KIB=${process.resourceUsage().maxRSS}\n`)
})
