/**
 * repro-jupyter frontend plugin: wires the `repro_jupyter` comm into every
 * notebook (the kernel's records land in the notebook's metadata), and adds
 * the Reproducibility side panel, the per-cell badges and the
 * `repro:reexecute-compare` command (palette, notebook toolbar, panel).
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, ToolbarButton } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { getInfo } from './api';
import { watchNotebook } from './comm';
import { reproIcon } from './icons';
import { PANEL_ID, ReproPanel } from './panel';
import { findCell, goToCell } from './snapshot';
import { NotebookReproState } from './state';
import { FRONTEND_VERSION } from './version';

export const PLUGIN_ID = 'repro-jupyter:plugin';

export namespace CommandIDs {
  export const reexecuteCompare = 'repro:reexecute-compare';
  export const cancelReexecute = 'repro:cancel-reexecute';
  export const showPanel = 'repro:show-panel';
}

/** Compare the server's handshake with this frontend: null when they match. */
async function handshake(): Promise<string | null> {
  try {
    const info = await getInfo();
    if (info.name !== 'repro-jupyter' || info.version !== FRONTEND_VERSION) {
      return `server ${info.name} ${info.version}, frontend ${FRONTEND_VERSION}`;
    }
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Reproducibility panel, cell badges and re-execute-and-compare for repro_jupyter notebooks.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, palette: ICommandPalette | null) => {
    const { commands, shell } = app;
    let serverReady = false;
    const states = new Map<NotebookPanel, NotebookReproState>();
    const stateFor = (panel: NotebookPanel): NotebookReproState => {
      let state = states.get(panel);
      if (!state) {
        state = new NotebookReproState(panel, () => serverReady);
        states.set(panel, state);
        // Staleness follows the source as it is typed, not only on save.
        state.badges.sourcesEdited.connect(() => state?.scheduleRefresh(0));
        panel.disposed.connect(() => states.delete(panel));
      }
      return state;
    };
    // The tracker may announce a notebook as current before adding it: keep
    // "comm watched" apart from "has a state".
    const watched = new WeakSet<NotebookPanel>();
    const watch = (panel: NotebookPanel): void => {
      if (!watched.has(panel)) {
        watched.add(panel);
        watchNotebook(panel);
      }
      stateFor(panel);
    };
    tracker.forEach(watch);
    tracker.widgetAdded.connect((_, panel) => watch(panel));

    /** The notebook a command acts on: the one named by `origin`, else the current one. */
    const target = (args: ReadonlyPartialJSONObject): NotebookPanel | null => {
      const origin = typeof args.origin === 'string' ? args.origin : null;
      if (origin) {
        const found = tracker.find(panel => panel.id === origin);
        if (found) {
          return found;
        }
      }
      return tracker.currentWidget;
    };

    const panel = new ReproPanel({
      reexecute: notebook =>
        void commands.execute(CommandIDs.reexecuteCompare, { origin: notebook.id }),
      goToCell: (notebook, index, id) => {
        const cell = findCell(notebook, id, index);
        if (cell) {
          shell.activateById(notebook.id);
          goToCell(notebook, cell);
        }
      }
    });
    shell.add(panel, 'left', { rank: 650 });
    const follow = (): void => {
      const current = tracker.currentWidget;
      panel.follow(current ? stateFor(current) : null);
    };
    tracker.currentChanged.connect(follow);
    follow();

    void handshake().then(problem => {
      serverReady = problem === null;
      panel.setHandshake(problem);
      if (problem) {
        console.warn(`repro-jupyter: server extension missing or mismatched: ${problem}`);
      }
      states.forEach(state => state.scheduleRefresh(0));
    });

    commands.addCommand(CommandIDs.reexecuteCompare, {
      label: 'Re-execute and compare',
      caption:
        'Restart the kernel, re-run every cell with the recorded seeds and compare with the recorded outputs',
      icon: args => (args.toolbar ? reproIcon : undefined),
      isEnabled: args => {
        const notebook = target(args);
        return !!notebook && !stateFor(notebook).verifier.running;
      },
      execute: async args => {
        const notebook = target(args);
        if (!notebook) {
          return;
        }
        shell.activateById(PANEL_ID);
        await stateFor(notebook).verifier.run();
        commands.notifyCommandChanged(CommandIDs.reexecuteCompare);
      }
    });
    commands.addCommand(CommandIDs.cancelReexecute, {
      label: 'Cancel re-execution',
      isEnabled: args => {
        const notebook = target(args);
        return !!notebook && stateFor(notebook).verifier.running;
      },
      execute: args => {
        const notebook = target(args);
        if (notebook) {
          stateFor(notebook).verifier.cancel();
        }
      }
    });
    commands.addCommand(CommandIDs.showPanel, {
      label: 'Show the Reproducibility panel',
      execute: () => shell.activateById(PANEL_ID)
    });
    if (palette) {
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category: 'Reproducibility' });
      }
    }

    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (notebook: NotebookPanel) => {
        const toolbarButton = new ToolbarButton({
          className: 'jp-repro-toolbar-button',
          icon: reproIcon,
          label: 'Verify',
          tooltip: 'Re-execute and compare',
          onClick: () => void commands.execute(CommandIDs.reexecuteCompare, { origin: notebook.id })
        });
        if (!notebook.toolbar.insertAfter('cellType', 'repro-reexecute', toolbarButton)) {
          notebook.toolbar.addItem('repro-reexecute', toolbarButton);
        }
        return toolbarButton;
      }
    });

    console.log('JupyterLab extension repro-jupyter is activated!');
  }
};

export default plugin;
