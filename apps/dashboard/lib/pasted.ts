/** The numbers of a paste box, one per non-empty line, each with its line number (for reporting rejected rows). */
export function pastedNumbers(text: string): { number: string; line: number }[] {
  return text
    .split('\n')
    .map((line, i) => ({ number: line.trim(), line: i + 1 }))
    .filter((r) => r.number !== '');
}
