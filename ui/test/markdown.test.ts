import { describe, expect, it } from "vitest";
import { linkCitations, markerNumbers, renderMarkdown } from "../src/markdown";

function html(md: string): { root: HTMLElement; all: Element[] } {
  const root = document.createElement("div");
  root.append(renderMarkdown(md));
  return { root, all: [...root.querySelectorAll("*")] };
}

/** Nothing that can run code, load anything or navigate. */
function expectInert(root: HTMLElement): void {
  const forbidden = "script, iframe, object, embed, img, svg, math, style, link, meta, a, form, input, button, video, audio, source, base";
  expect(root.querySelectorAll(forbidden)).toHaveLength(0);
  for (const el of root.querySelectorAll("*")) {
    for (const attr of el.getAttributeNames()) {
      expect(el.tagName === "OL" && attr === "start", `<${el.tagName.toLowerCase()} ${attr}>`).toBe(true);
    }
  }
  expect(root.innerHTML).not.toMatch(/<[^>]+\son\w+=/i);
}

describe("renderMarkdown", () => {
  it("renders ordinary Markdown", () => {
    const { root } = html("**bold** and *em*\n\n- one\n- two\n\n3. three\n4. four\n\n`code` and\n\n```\nblock\n```");
    expect(root.querySelector("strong")?.textContent).toBe("bold");
    expect(root.querySelector("em")?.textContent).toBe("em");
    expect(root.querySelectorAll("ul li")).toHaveLength(2);
    expect(root.querySelector("ol")?.getAttribute("start")).toBe("3");
    expect(root.querySelector("pre code")?.textContent).toContain("block");
    expectInert(root);
  });

  it("shows <script> as text and never as an element", () => {
    const { root } = html("Before <script>alert('x')</script> after\n\n<script>window.__pwned = 1</script>");
    expect(root.querySelector("script")).toBeNull();
    expect(root.textContent).toContain("<script>alert('x')</script>");
    expectInert(root);
  });

  it("leaves <img onerror> inert", () => {
    const { root } = html('Look: <img src=x onerror="alert(1)"> and ![pic](http://tracker.invalid/p.png "t")');
    expect(root.querySelector("img")).toBeNull();
    expect(root.textContent).toContain("<img src=x onerror=\"alert(1)\">");
    expect(root.textContent).toContain("pic");
    expectInert(root);
  });

  it("drops javascript: and every other link, keeping the words", () => {
    const { root } = html('[click me](javascript:alert(1)) <a href="javascript:alert(2)">raw</a> https://example.com [ref][r]\n\n[r]: javascript:alert(3)');
    expect(root.querySelector("a")).toBeNull();
    expect(root.textContent).toContain("click me");
    expect(root.textContent).toContain("https://example.com");
    for (const el of root.querySelectorAll("*")) {
      expect(el.getAttribute("href")).toBeNull();
    }
    expectInert(root);
  });

  it("leaves other injection routes inert", () => {
    const { root } = html([
      '<iframe src="https://evil.invalid"></iframe>',
      '<svg onload="alert(1)"><circle/></svg>',
      "<style>body{display:none}</style>",
      '<div style="position:fixed" onclick="alert(1)">x</div>',
      '<details open ontoggle="alert(1)">d</details>',
      "<b onmouseover=alert(1)>hover</b>",
      "<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>",
    ].join("\n\n"));
    expectInert(root);
    expect(root.textContent).toContain("<iframe");
  });

  it("returns a fragment, so nothing reaches innerHTML as a string", () => {
    expect(renderMarkdown("hi")).toBeInstanceOf(DocumentFragment);
  });
});

describe("citation markers", () => {
  const chip = (known: number[]) => (n: number) => {
    if (!known.includes(n)) return null;
    const b = document.createElement("button");
    b.className = "chip";
    b.textContent = String(n);
    return b;
  };

  it("reads the numbers of a marker", () => {
    expect(markerNumbers("[2, S3]")).toEqual([2, 3]);
    expect(markerNumbers("[#4]")).toEqual([4]);
  });

  it("turns known markers into chips, in text only", () => {
    const root = document.createElement("div");
    root.append(renderMarkdown("Paris [2]. Lyon [1, 3][2]. Not [9]. See [note]. Code: `[1]`"));
    linkCitations(root, chip([1, 2, 3]));
    const chips = [...root.querySelectorAll(".chip")].map((c) => c.textContent);
    expect(chips).toEqual(["2", "1", "3", "2"]);
    expect(root.textContent).toContain("Not [9].");
    expect(root.textContent).toContain("See [note].");
    expect(root.querySelector("code")?.textContent).toBe("[1]");
  });

  it("treats markup inside a marker-like text as text", () => {
    const root = document.createElement("div");
    root.append(renderMarkdown("x [1] <img src=x onerror=alert(1)> [1]"));
    linkCitations(root, chip([1]));
    expect(root.querySelectorAll(".chip")).toHaveLength(2);
    expect(root.querySelector("img")).toBeNull();
  });
});
