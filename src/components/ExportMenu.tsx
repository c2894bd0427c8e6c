import { TranslationBundle } from '@jupyterlab/translation';

import { Button, caretDownIcon } from '@jupyterlab/ui-components';

import * as React from 'react';

import { ExportFormat } from '../tokens';

/**
 * One file the env can be exported as.
 */
export interface IExportChoice {
  format: ExportFormat;
  label: string;
  /** Why the env cannot be exported so (the item is disabled), or null. */
  refused: string | null;
}

/**
 * Properties of the export menu.
 */
export interface IExportMenuProps {
  trans: TranslationBundle;
  choices: IExportChoice[];
  disabled: boolean;
  onExport: (format: ExportFormat) => void;
}

/**
 * One Export button that opens a menu of the files the env can be saved as:
 * as narrow as one button at 250 px, where three format buttons wrapped into a
 * column of their own. A menu button as JupyterLab's toolbars have them: the
 * arrow keys move through the items, Enter picks one, Escape closes the menu
 * and gives the focus back to the button.
 */
export function ExportMenu(props: IExportMenuProps): JSX.Element {
  const { trans, choices } = props;
  const [open, setOpen] = React.useState(false);
  const root = React.useRef<HTMLDivElement>(null);
  const menu = React.useRef<HTMLDivElement>(null);

  const items = (): HTMLButtonElement[] =>
    Array.from(
      menu.current?.querySelectorAll<HTMLButtonElement>(
        'button.jp-userpkg-export:not(:disabled)'
      ) ?? []
    );

  const close = (focusButton: boolean): void => {
    setOpen(false);
    if (focusButton) {
      root.current
        ?.querySelector<HTMLButtonElement>('.jp-userpkg-export-button')
        ?.focus();
    }
  };

  React.useEffect(() => {
    if (open) {
      items()[0]?.focus();
      return closeOnClickElsewhere(root, () => setOpen(false));
    }
  }, [open]);

  const onKeyDown = (event: React.KeyboardEvent): void =>
    menuKeys(event, items(), close);

  return (
    <div className="jp-userpkg-export-menu" ref={root}>
      <Button
        className="jp-userpkg-export-button"
        small
        disabled={props.disabled}
        aria-haspopup="menu"
        aria-expanded={open}
        title={trans.__('Save this environment as a file')}
        onClick={() => setOpen(!open)}
        onKeyDown={(event: React.KeyboardEvent) => {
          if (event.key === 'ArrowDown' && !open) {
            event.preventDefault();
            setOpen(true);
          }
        }}
      >
        {trans.__('Export')}
        <caretDownIcon.react tag="span" className="jp-userpkg-caret" />
      </Button>
      <div
        ref={menu}
        className="jp-userpkg-export-list"
        role="menu"
        aria-label={trans.__('Export as')}
        hidden={!open}
        onKeyDown={onKeyDown}
      >
        {choices.map(choice => (
          <ExportItem
            key={choice.format}
            trans={trans}
            choice={choice}
            disabled={props.disabled}
            onPick={() => {
              close(true);
              props.onExport(choice.format);
            }}
          />
        ))}
      </div>
    </div>
  );
}

/**
 * The menu's keys: arrows (wrapping), Home and End move the focus through the
 * enabled items; Escape closes and gives the focus back; Tab closes.
 */
function menuKeys(
  event: React.KeyboardEvent,
  list: HTMLButtonElement[],
  close: (focusButton: boolean) => void
): void {
  const at = list.indexOf(document.activeElement as HTMLButtonElement);
  if (event.key === 'Escape') {
    event.preventDefault();
    event.stopPropagation();
    close(true);
  } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    const step = event.key === 'ArrowDown' ? 1 : -1;
    list[(at + step + list.length) % list.length]?.focus();
  } else if (event.key === 'Home' || event.key === 'End') {
    event.preventDefault();
    list[event.key === 'Home' ? 0 : list.length - 1]?.focus();
  } else if (event.key === 'Tab') {
    close(false);
  }
}

/**
 * One file of the menu; a format the env's kind cannot write is disabled and
 * says why.
 */
function ExportItem(props: {
  trans: TranslationBundle;
  choice: IExportChoice;
  disabled: boolean;
  onPick: () => void;
}): JSX.Element {
  const { format, label, refused } = props.choice;
  return (
    <button
      type="button"
      role="menuitem"
      className="jp-userpkg-export"
      data-format={format}
      disabled={props.disabled || refused !== null}
      title={refused ?? props.trans.__('Download %1', label)}
      onClick={props.onPick}
    >
      {label}
    </button>
  );
}

/**
 * Close the menu on a click anywhere outside ``root``; returns the undo.
 */
function closeOnClickElsewhere(
  root: React.RefObject<HTMLElement>,
  close: () => void
): () => void {
  const outside = (event: MouseEvent): void => {
    if (!root.current?.contains(event.target as Node)) {
      close();
    }
  };
  document.addEventListener('mousedown', outside);
  return () => document.removeEventListener('mousedown', outside);
}
