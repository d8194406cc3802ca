// `stillflow job` prints its result as a text table: columns line up in a terminal whatever the script,
// so 城市 (two columns per character) sits over its values as `region` does.
import { describe, expect, it } from 'vitest'
import { displayWidth, formatTable } from '../../cli/src/commands/job'

describe('formatTable', () => {
  it('aligns ASCII, wide (CJK) and combining text by terminal columns', () => {
    expect([displayWidth('region'), displayWidth('城市'), displayWidth('cafe\u0301'), displayWidth('ｎ')]).toEqual([
      6, 4, 4, 2,
    ])
    const out = formatTable(
      ['城市', 'n', 'avg(收入)'],
      [
        ['北京', 1001, 1343.5],
        ['Zürich', 7, null],
      ],
    )
    const lines = out.trimEnd().split('\n')
    expect(lines).toEqual([
      '城市    n     avg(收入)',
      '------  ----  ---------',
      '北京    1001  1343.5',
      'Zürich  7     NULL',
    ])
  })
})
