import * as React from 'react';

/**
 * A tab list whose tabs are real buttons, moved between with the arrow keys.
 */
export function Tabs<T extends string>(props: {
  label: string;
  tabs: Array<{ id: T; label: string }>;
  selected: T;
  onSelect: (id: T) => void;
}): JSX.Element {
  const refs = React.useRef(new Map<T, HTMLButtonElement>());
  const onKeyDown = (event: React.KeyboardEvent) => {
    const ids = props.tabs.map(tab => tab.id);
    const at = ids.indexOf(props.selected);
    let next = -1;
    if (event.key === 'ArrowRight') {
      next = (at + 1) % ids.length;
    } else if (event.key === 'ArrowLeft') {
      next = (at - 1 + ids.length) % ids.length;
    } else if (event.key === 'Home') {
      next = 0;
    } else if (event.key === 'End') {
      next = ids.length - 1;
    }
    if (next >= 0) {
      event.preventDefault();
      props.onSelect(ids[next]);
      refs.current.get(ids[next])?.focus();
    }
  };
  return (
    <div
      className="jp-userpkg-tabs"
      role="tablist"
      aria-label={props.label}
      onKeyDown={onKeyDown}
    >
      {props.tabs.map(tab => {
        const selected = tab.id === props.selected;
        return (
          <button
            key={tab.id}
            ref={el => {
              if (el) {
                refs.current.set(tab.id, el);
              }
            }}
            type="button"
            role="tab"
            id={`jp-userpkg-tab-${tab.id}`}
            className={`jp-userpkg-tab${selected ? ' jp-mod-selected' : ''}`}
            data-tab={tab.id}
            aria-selected={selected}
            aria-controls={`jp-userpkg-tabpanel-${tab.id}`}
            tabIndex={selected ? 0 : -1}
            onClick={() => props.onSelect(tab.id)}
          >
            {tab.label}
          </button>
        );
      })}
    </div>
  );
}
