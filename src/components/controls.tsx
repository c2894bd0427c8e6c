import { HTMLSelect, IOptionProps } from '@jupyterlab/ui-components';

import * as React from 'react';

/**
 * JupyterLab's HTMLSelect, with `className` on the <select> itself (the
 * HTMLSelect puts it on its wrapper), so that the control is found by its class.
 */
export function Select(props: {
  className: string;
  value: string;
  options: Array<string | IOptionProps>;
  onChange: (value: string) => void;
  label?: string;
  id?: string;
  name?: string;
  disabled?: boolean;
}): JSX.Element {
  const { className } = props;
  const ref = React.useCallback(
    (element: HTMLSelectElement | null) => {
      element?.classList.add(...className.split(/\s+/).filter(Boolean));
    },
    [className]
  );
  return (
    <HTMLSelect
      elementRef={ref}
      id={props.id}
      name={props.name}
      aria-label={props.label}
      value={props.value}
      disabled={props.disabled}
      options={props.options}
      onChange={event => props.onChange(event.currentTarget.value)}
    />
  );
}

/**
 * A text input styled as JupyterLab's InputGroup, with `className` on the
 * <input> itself.
 */
export function TextInput(
  props: React.InputHTMLAttributes<HTMLInputElement> & { className: string }
): JSX.Element {
  const { className, ...others } = props;
  return (
    <div className="jp-InputGroup jp-userpkg-input">
      <input type="text" {...others} className={className} />
    </div>
  );
}

/**
 * A size in bytes, in words.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) {
    return '0 B';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * The short name of a channel URL (`https://host/conda-forge` -> `conda-forge`).
 */
export function channelName(channel: string): string {
  const trimmed = channel.replace(/\/+$/, '');
  const last = trimmed.split('/').pop();
  return last || channel;
}

/**
 * Bring what just opened into view and give it the focus (once, when it
 * mounts), and give the focus back when it closes; Escape inside it calls
 * `onEscape`.
 */
export function useTakeFocus<T extends HTMLElement>(
  onEscape?: () => void,
  enabled = true
): {
  ref: React.RefObject<T>;
  onKeyDown: (event: React.KeyboardEvent) => void;
} {
  const ref = React.useRef<T>(null);
  React.useEffect(() => {
    const element = ref.current;
    if (!element || !enabled) {
      return;
    }
    const before = document.activeElement as HTMLElement | null;
    element.scrollIntoView?.({ block: 'nearest' });
    element.focus({ preventScroll: true });
    return () => {
      // Closed (Escape, Discard, dismissed): the focus goes back to what
      // opened it, when the focus left with the element and that is still there.
      const now = document.activeElement;
      if (
        before?.isConnected &&
        (now === null || now === document.body || element.contains(now))
      ) {
        before.focus({ preventScroll: true });
      }
    };
  }, []);
  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.key === 'Escape' && onEscape) {
      event.preventDefault();
      event.stopPropagation();
      onEscape();
    }
  };
  return { ref, onKeyDown };
}

/** A name joined by hyphens, short enough to keep on one line. */
const HYPHENATED = /[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)+/g;
const KEEP_MAX = 32;

/**
 * `text` with each hyphenated name (`python-slugify`, up to 32 characters)
 * kept on one line: the browser breaks lines after a hyphen, which cuts a
 * package name in two. Longer names may still wrap, rather than overflow.
 */
export function keepWords(text: string): React.ReactNode {
  const parts: React.ReactNode[] = [];
  let last = 0;
  const found = new RegExp(HYPHENATED.source, 'g');
  let match: RegExpExecArray | null;
  while ((match = found.exec(text)) !== null) {
    const at = match.index;
    if (match[0].length > KEEP_MAX) {
      continue;
    }
    parts.push(text.slice(last, at));
    parts.push(
      <span key={at} className="jp-userpkg-word">
        {match[0]}
      </span>
    );
    last = at + match[0].length;
  }
  if (parts.length === 0) {
    return text;
  }
  parts.push(text.slice(last));
  return parts;
}
