/**
 * Display helpers: strings from the server go into the DOM as text, never as
 * markup; long text is cut with an ellipsis; byte sizes read as people read them.
 */
import { ellipsis, h, s } from '../dom';
import { bytes } from '../milestonesview';

describe('h and s', () => {
  it('puts strings in as text nodes, never as HTML', () => {
    const node = h(
      'div',
      { class: 'x' },
      '<img src=x onerror="alert(1)">',
      null,
      false,
      undefined
    );
    expect(node.querySelector('img')).toBeNull();
    expect(node.textContent).toBe('<img src=x onerror="alert(1)">');
    expect(node.childNodes).toHaveLength(1);
    expect(node.className).toBe('x');
  });

  it('sets attributes verbatim and skips undefined ones', () => {
    const node = h('span', { title: '"><script>', 'data-x': undefined });
    expect(node.getAttribute('title')).toBe('"><script>');
    expect(node.hasAttribute('data-x')).toBe(false);
  });

  it('makes SVG elements in the SVG namespace', () => {
    const node = s('rect', { width: 3, height: undefined });
    expect(node.namespaceURI).toBe('http://www.w3.org/2000/svg');
    expect(node.getAttribute('width')).toBe('3');
    expect(node.hasAttribute('height')).toBe(false);
  });
});

describe('ellipsis', () => {
  it('leaves short text alone and cuts long text to exactly max characters', () => {
    expect(ellipsis('abc', 3)).toBe('abc');
    expect(ellipsis('abcdef', 4)).toBe('abc…');
    expect(ellipsis('abcdef', 4)).toHaveLength(4);
  });

  it('copes with a zero or negative limit', () => {
    expect(ellipsis('abc', 0)).toBe('…');
    expect(ellipsis('abc', -5)).toBe('…');
  });
});

describe('bytes', () => {
  it('reads as people read sizes', () => {
    expect(bytes(0)).toBe('0 bytes');
    expect(bytes(1023)).toBe('1023 bytes');
    expect(bytes(1024)).toBe('1.0 KB');
    expect(bytes(1536)).toBe('1.5 KB');
    expect(bytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(bytes(3 * 1024 ** 4)).toBe('3072.0 GB');
  });
});
