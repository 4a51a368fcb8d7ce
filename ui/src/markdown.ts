// Markdown for answers. Answer text is untrusted: the model paraphrases document text, and a
// document can contain anything. Two layers keep it inert:
//  1. the Markdown renderer never emits raw HTML, links or images: raw HTML is shown as text, a
//     link keeps only its words (a click must never navigate the webview), an image its alt text;
//  2. DOMPurify then keeps only a short list of formatting tags with no attributes but `start`,
//     and hands back a DOM fragment, so the sanitised string is never re-parsed by innerHTML.
// Citation markers ([2], [2, 3], [2][3]) are turned into chip elements afterwards, on text nodes.

import DOMPurify from "dompurify";
import { Marked, type Tokens } from "marked";

const ALLOWED_TAGS = [
  "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
  "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
  "table", "thead", "tbody", "tr", "th", "td",
];

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const marked = new Marked({
  gfm: true,
  // Models write single newlines as line breaks; honour them.
  breaks: true,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(token.text);
    },
    link(this: { parser: { parseInline: (t: Tokens.Link["tokens"]) => string } }, token: Tokens.Link): string {
      return this.parser.parseInline(token.tokens);
    },
    image(token: Tokens.Image): string {
      return escapeHtml(token.text);
    },
  },
});

let hooked = false;
function purifier(): typeof DOMPurify {
  if (!hooked) {
    // Belt and braces: whatever slipped through loses every attribute but the list's `start`.
    DOMPurify.addHook("uponSanitizeAttribute", (node, data) => {
      if (!(node.nodeName === "OL" && data.attrName === "start")) data.keepAttr = false;
    });
    hooked = true;
  }
  return DOMPurify;
}

/** Markdown -> sanitised DOM fragment (no scripts, handlers, links, images, styles or ids). */
export function renderMarkdown(text: string): DocumentFragment {
  const html = marked.parse(text) as string;
  return purifier().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ["start"],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  });
}

/** Matches one citation marker: [2], [2, 3], [2; 3], [S2], [#2]. */
const MARKER = /\[\s*[#Ss]?\s*\d+(?:\s*[,;]\s*[#Ss]?\s*\d+)*\s*\]/g;

/** Numbers in a marker's text, e.g. "[2, S3]" -> [2, 3]. */
export function markerNumbers(marker: string): number[] {
  return (marker.match(/\d+/g) ?? []).map(Number);
}

/**
 * Replaces citation markers in the text of `root` (outside code) with whatever `chip(n)` builds.
 * A marker whose numbers have no chip (no such source) stays as text.
 */
export function linkCitations(root: Node, chip: (n: number) => Node | null): void {
  const doc = root.ownerDocument ?? document;
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = (n as Text).parentElement;
    if (parent && parent.closest("code, pre")) continue;
    texts.push(n as Text);
  }
  for (const t of texts) {
    const s = t.data;
    MARKER.lastIndex = 0;
    if (!MARKER.test(s)) continue;
    MARKER.lastIndex = 0;
    const frag = doc.createDocumentFragment();
    let last = 0;
    for (let m = MARKER.exec(s); m; m = MARKER.exec(s)) {
      const chips = markerNumbers(m[0]).map(chip);
      if (chips.some((c) => c === null)) continue;
      frag.append(doc.createTextNode(s.slice(last, m.index)));
      for (const c of chips) frag.append(c as Node);
      last = m.index + m[0].length;
    }
    frag.append(doc.createTextNode(s.slice(last)));
    t.replaceWith(frag);
  }
}
