// Every command of the CLI, in the order `stillflow --help` lists them.
import type { Command } from '../command'
import { assets } from './assets'
import { login, logout, whoami } from './auth'
import { publishCommand } from './publish'

export const commands: Command[] = [login, whoami, logout, publishCommand, assets]
