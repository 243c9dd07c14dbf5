/**
 * Text wrapped at word boundaries for a terminal: the alert messages of
 * `forecastd alerts`, which are longer than a line.
 */

/**
 * `text` as lines of at most `width` characters, each starting with
 * `indent`; a word longer than a line is split.
 */
export function wrapText(text: string, width: number, indent = ""): string[] {
  const room = Math.max(1, width - indent.length);
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(/\s+/).filter((w) => w !== "")) {
    while (word.length > room) {
      if (line !== "") {
        lines.push(line);
        line = "";
      }
      lines.push(word.slice(0, room));
      word = word.slice(room);
    }
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= room) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines.map((l) => indent + l);
}
