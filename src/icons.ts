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
