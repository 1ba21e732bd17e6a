/**
 * A tiny DOM builder: the panel and drift views are plain DOM, and every
 * string from the server goes in as text, never as HTML.
 */

export type Child = Node | string | null | undefined | false;

export interface IAttrs {
  class?: string;
  title?: string;
  [name: string]: string | undefined;
}

/** `<tag attrs>children</tag>`; strings become text nodes, falsy children are skipped. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: IAttrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined) {
      node.setAttribute(name, value);
    }
  }
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same for SVG elements (attributes only; text via `textContent`). */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | undefined> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined) {
      node.setAttribute(name, String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.appendChild(
      typeof child === 'string' ? document.createTextNode(child) : child
    );
  }
}

/** A button that runs `onClick` (never submits, never bubbles). */
export function button(
  label: string,
  onClick: () => void,
  attrs: IAttrs = {}
): HTMLButtonElement {
  const node = h('button', { type: 'button', ...attrs }, label);
  node.addEventListener('click', event => {
    event.preventDefault();
    event.stopPropagation();
    onClick();
  });
  return node;
}

/** Shorten `text` to `max` characters with an ellipsis (display only). */
export function ellipsis(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, Math.max(0, max - 1)) + '…';
}

/** A one-line message box; `kind` picks the colour (info, error, ok). */
export function note(
  text: string,
  kind: 'info' | 'error' | 'ok' = 'info'
): HTMLElement {
  return h('div', { class: `jp-repro-note jp-repro-note-${kind}` }, text);
}
