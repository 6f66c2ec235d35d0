/** A name made into a DNS-1123 label (lowercase, `-` for anything else, at most 63 characters). */
export function dnsLabel(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
}
