import { LabIcon } from '@jupyterlab/ui-components';

/**
 * A package (box) icon for the sidebar tab; `jp-icon3` makes it follow the theme.
 */
const packageSvgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" d="M12 2 3 6.5v11L12 22l9-4.5v-11L12 2zm0 2.24 6.53 3.26L12 10.76 5.47 7.5 12 4.24zM5 9.12l6 3v7.26l-6-3V9.12zm8 10.26v-7.26l6-3v7.26l-6 3z"/>
</svg>`;

export const packageIcon = new LabIcon({
  name: 'jupyter-userpkg:package',
  svgstr: packageSvgstr
});

/**
 * A warning triangle: an env or a package the administrator's policy refuses.
 * `jp-icon-warn0` takes the theme's warning colour.
 */
const warningSvgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon-warn0" fill="#f57c00" d="M12 2 1 21h22L12 2zm-1 7h2v6h-2V9zm0 8h2v2h-2v-2z"/>
</svg>`;

export const warningIcon = new LabIcon({
  name: 'jupyter-userpkg:warning',
  svgstr: warningSvgstr
});

/**
 * A shield: the administrator's policy.
 */
const policySvgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" fill-rule="evenodd" d="M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5l-8-3zm0 2.2 6 2.3V11c0 3.9-2.5 7.4-6 8.8-3.5-1.4-6-4.9-6-8.8V6.5l6-2.3z"/>
  <path class="jp-icon3" fill="#616161" d="m10.6 14.2-2.1-2.1-1.1 1.1 3.2 3.2 5.9-5.9-1.1-1.1z"/>
</svg>`;

export const policyIcon = new LabIcon({
  name: 'jupyter-userpkg:policy',
  svgstr: policySvgstr
});
