import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import { ExportMenu } from '../components/ExportMenu';

const trans = nullTranslator.load('jupyter_userpkg');

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let host: HTMLElement;
let root: Root;

beforeEach(() => {
  host = document.createElement('div');
  document.body.appendChild(host);
  root = createRoot(host);
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

const CHOICES = [
  { format: 'requirements' as const, label: 'requirements.txt', refused: 'A conda environment cannot be exported as requirements.txt.' },
  { format: 'environment' as const, label: 'environment.yml', refused: null },
  { format: 'lock' as const, label: 'lock', refused: null }
];

function render(onExport: jest.Mock): void {
  act(() => root.render(<ExportMenu trans={trans} choices={CHOICES} disabled={false} onExport={onExport} />));
}

const button = (): HTMLButtonElement => host.querySelector('button.jp-userpkg-export-button')!;
const list = (): HTMLElement => host.querySelector('[role="menu"]')!;
const key = (target: Element, name: string): void => {
  act(() => {
    target.dispatchEvent(new KeyboardEvent('keydown', { key: name, bubbles: true }));
  });
};

describe('the export menu', () => {
  it('is one button; its menu opens on click with the focus on the first file it can write', () => {
    const onExport = jest.fn();
    render(onExport);
    expect(host.querySelectorAll('button.jp-userpkg-export-button')).toHaveLength(1);
    expect(list().hidden).toBe(true);
    expect(button().getAttribute('aria-expanded')).toBe('false');
    act(() => button().click());
    expect(list().hidden).toBe(false);
    expect(button().getAttribute('aria-expanded')).toBe('true');
    // requirements.txt is refused (disabled, with the reason): the focus starts below it.
    const refused = host.querySelector<HTMLButtonElement>('[data-format="requirements"]')!;
    expect(refused.disabled).toBe(true);
    expect(refused.title).toMatch(/cannot be exported as requirements.txt/);
    expect(document.activeElement?.getAttribute('data-format')).toBe('environment');
  });

  it('moves with the arrow keys, picks with a click, and Escape gives the focus back', () => {
    const onExport = jest.fn();
    render(onExport);
    act(() => button().click());
    key(document.activeElement!, 'ArrowDown');
    expect(document.activeElement?.getAttribute('data-format')).toBe('lock');
    key(document.activeElement!, 'ArrowDown'); // wraps, past the disabled one
    expect(document.activeElement?.getAttribute('data-format')).toBe('environment');
    key(document.activeElement!, 'Escape');
    expect(list().hidden).toBe(true);
    expect(document.activeElement).toBe(button());
    expect(onExport).not.toHaveBeenCalled();

    act(() => button().click());
    act(() => host.querySelector<HTMLButtonElement>('[data-format="lock"]')!.click());
    expect(onExport).toHaveBeenCalledWith('lock');
    expect(list().hidden).toBe(true);
  });

  it('closes on a click elsewhere', () => {
    render(jest.fn());
    act(() => button().click());
    act(() => {
      document.body.dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
    });
    expect(list().hidden).toBe(true);
  });
});
