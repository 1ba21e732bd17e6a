/**
 * The repro-jupyter icon: a page with a check mark and a loop arrow. Uses
 * JupyterLab's `jp-icon*` classes so it follows the theme.
 */
import { LabIcon } from '@jupyterlab/ui-components';

const REPRO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 4a8 8 0 0 1 7.75 6h-2.1A6 6 0 0 0 6.3 8.3L9 11H2V4l2.9 2.9A7.97 7.97 0 0 1 12 4z"/>
    <path d="M12 20a8 8 0 0 1-7.75-6h2.1a6 6 0 0 0 11.35 1.7L15 13h7v7l-2.9-2.9A7.97 7.97 0 0 1 12 20z"/>
    <path d="M10.6 15.2 8 12.6l1.1-1.1 1.5 1.5 3.9-3.9 1.1 1.1z"/>
  </g>
</svg>`;

export const reproIcon = new LabIcon({
  name: 'repro-jupyter:icon',
  svgstr: REPRO_SVG
});
