// Hardhat 2 configuration: only the network (in-process for contract tests, `hardhat node` for
// `npm start`). Contracts are compiled by contracts/build.ts with the npm solc, never by hardhat
// (its compile task downloads a compiler and fails offline).
process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT = 'true'

/** @type {import('hardhat/config').HardhatUserConfig} */
module.exports = {
  solidity: '0.8.37',
  paths: {
    sources: './contracts/src',
    cache: './contracts/out/hardhat-cache',
    artifacts: './contracts/out/hardhat-artifacts',
  },
  networks: {
    hardhat: { chainId: 31337 },
  },
}
