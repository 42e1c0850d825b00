/**
 * Exact decimal text for prices and quantities kept as integer units
 * (10^-decimals each). Kraken sends JSON numbers, sometimes trimmed (`0.566`),
 * sometimes padded (`0.10000000`); both forms are produced here.
 * @module
 */

/** `units × 10^-decimals` with exactly `decimals` decimals: `formatUnits(5660, 4)` is `"0.5660"`. */
export function formatUnits(units: number, decimals: number): string {
  const digits = String(units);
  if (decimals === 0) return digits;
  const padded = digits.padStart(decimals + 1, "0");
  return padded.slice(0, padded.length - decimals) + "." + padded.slice(padded.length - decimals);
}

/** Like {@link formatUnits} without trailing zeros (and without a bare `.`): `"0.566"`, `"45281"`. */
export function trimUnits(units: number, decimals: number): string {
  const s = formatUnits(units, decimals);
  if (decimals === 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/** The JSON number value of `units × 10^-decimals` (what a client's `JSON.parse` yields). */
export function unitsValue(units: number, decimals: number): number {
  return Number(formatUnits(units, decimals));
}
