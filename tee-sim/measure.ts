// `npm run measure`: prints the enclave measurement of this checkout (see tee-sim/README.md for the
// bundle definition). `--verbose` also lists the dependencies and files that went into it.
import { computeMeasurement } from './src/platform/measurement'

const { measurement, files, dependencies } = computeMeasurement()
if (process.argv.includes('--verbose')) {
  for (const d of dependencies) process.stderr.write(`${d}\n`)
  for (const f of files) process.stderr.write(`file ${f}\n`)
}
process.stdout.write(`${measurement}\n`)
