/**
 * @file A plain-textarea code editor with line numbers, live highlighting and an error marker.
 * The textarea keeps native editing (undo, selection, IME); its text is transparent and a
 * highlighted copy is drawn underneath at the same font and line height, scrolled with it. An
 * error marks its line in the gutter and the text and underlines its column.
 */
import { h } from './dom.js';
import { highlightLines, type Lang } from './highlight.js';

/** Pixel line height and padding; style.css uses the same numbers for `.editor`. */
const LINE_PX = 20;
const PAD_PX = 10;

export class Editor {
  readonly root: HTMLDivElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly gutter: HTMLDivElement;
  private readonly layer: HTMLDivElement;
  private readonly code: HTMLPreElement;
  private readonly band: HTMLDivElement;
  private readonly caret: HTMLDivElement;
  private error: { line: number; column: number } | undefined;
  private lineCount = 0;
  private pending = 0;

  constructor(private readonly lang: Lang, opts: { label: string; rows?: number; onChange?: () => void }) {
    this.gutter = h('div', { class: 'editor-gutter', 'aria-hidden': 'true' });
    this.code = h('pre', { class: 'editor-code', 'aria-hidden': 'true' });
    this.band = h('div', { class: 'editor-error-band', hidden: true });
    this.caret = h('div', { class: 'editor-error-col', hidden: true });
    this.layer = h('div', { class: 'editor-layer' }, this.band, this.code, this.caret);
    this.textarea = h('textarea', {
      class: 'editor-input', spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off', wrap: 'off', 'aria-label': opts.label,
    });
    this.root = h('div', { class: 'editor', style: `height: ${(opts.rows ?? 16) * LINE_PX + 2 * PAD_PX}px` },
      this.gutter, h('div', { class: 'editor-body' }, this.layer, this.textarea));
    this.textarea.addEventListener('input', () => {
      this.clearError();
      this.schedule();
      opts.onChange?.();
    });
    this.textarea.addEventListener('scroll', () => this.sync());
    this.textarea.addEventListener('keydown', (e) => {
      // Tab indents instead of leaving the editor (Shift+Tab and Escape still move focus on).
      if (e.key === 'Tab' && !e.shiftKey) {
        e.preventDefault();
        document.execCommand('insertText', false, '  ');
      }
    });
    this.render();
  }

  get value(): string {
    return this.textarea.value;
  }

  set value(text: string) {
    this.textarea.value = text;
    this.clearError();
    this.render();
    this.textarea.scrollTop = 0;
    this.sync();
  }

  /** Marks line `line` (1-based) and underlines column `column` (1-based), and scrolls to it. */
  setError(line: number, column: number): void {
    const lines = this.value.split('\n');
    const l = Math.min(Math.max(1, line), lines.length);
    this.error = { line: l, column: Math.max(1, column) };
    this.root.dataset.errorLine = String(l);
    this.root.dataset.errorColumn = String(this.error.column);
    this.band.hidden = false;
    this.band.style.top = `${PAD_PX + (l - 1) * LINE_PX}px`;
    this.caret.hidden = false;
    this.caret.style.top = `${PAD_PX + (l - 1) * LINE_PX}px`;
    this.caret.style.left = `calc(${PAD_PX}px + ${this.error.column - 1}ch)`;
    this.renderGutter();
    const target = PAD_PX + (l - 1) * LINE_PX;
    const ta = this.textarea;
    if (target < ta.scrollTop || target > ta.scrollTop + ta.clientHeight - 2 * LINE_PX) ta.scrollTop = Math.max(0, target - ta.clientHeight / 3);
    this.sync();
  }

  /** Puts the cursor at the marked error. */
  focusError(): void {
    if (!this.error) return;
    const lines = this.value.split('\n');
    let offset = 0;
    for (let i = 0; i < this.error.line - 1; i++) offset += lines[i].length + 1;
    offset += Math.min(this.error.column - 1, lines[this.error.line - 1]?.length ?? 0);
    this.textarea.focus();
    this.textarea.setSelectionRange(offset, offset);
  }

  clearError(): void {
    if (!this.error) return;
    this.error = undefined;
    delete this.root.dataset.errorLine;
    delete this.root.dataset.errorColumn;
    this.band.hidden = true;
    this.caret.hidden = true;
    this.renderGutter();
  }

  /** Re-highlights on the next frame, so typing in a large module stays smooth. */
  private schedule(): void {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.render();
    });
  }

  private render(): void {
    const lines = highlightLines(this.value, this.lang);
    // A trailing newline needs a line of its own so the copy is as tall as the textarea's text.
    this.code.innerHTML = `${lines.join('\n')}\n`;
    if (lines.length !== this.lineCount) {
      this.lineCount = lines.length;
      this.renderGutter();
    }
    this.sync();
  }

  private renderGutter(): void {
    const rows: HTMLElement[] = [];
    for (let i = 1; i <= this.lineCount; i++) {
      rows.push(h('div', { class: i === this.error?.line ? 'error' : undefined, 'data-line': i }, i));
    }
    this.gutter.replaceChildren(h('div', { class: 'editor-gutter-inner' }, ...rows));
    this.sync();
  }

  private sync(): void {
    const { scrollTop, scrollLeft } = this.textarea;
    this.layer.style.transform = `translate(${-scrollLeft}px, ${-scrollTop}px)`;
    const inner = this.gutter.firstElementChild as HTMLElement | null;
    if (inner) inner.style.transform = `translateY(${-scrollTop}px)`;
  }
}
