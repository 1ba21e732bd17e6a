/**
 * repro-jupyter frontend plugin: wires the `repro_jupyter` comm into every
 * notebook so that the kernel's records land in the notebook's metadata.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { watchNotebook } from './comm';

export const PLUGIN_ID = 'repro-jupyter:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Writes the repro_jupyter records that the kernel sends into notebook metadata.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker) => {
    const watched = new WeakSet<NotebookPanel>();
    const watch = (panel: NotebookPanel): void => {
      if (!watched.has(panel)) {
        watched.add(panel);
        watchNotebook(panel);
      }
    };
    tracker.forEach(watch);
    tracker.widgetAdded.connect((_, panel) => watch(panel));
    console.log('JupyterLab extension repro-jupyter is activated!');
  }
};

export default plugin;
