/**
 * repro-jupyter frontend plugin: wires the `repro_jupyter` comm into every
 * notebook (the kernel's records land in the notebook's metadata), and adds
 * the Reproducibility side panel, the per-cell badges and the
 * `repro:reexecute-compare` command, "Verify: re-execute and compare"
 * (palette, notebook toolbar, panel).
 *
 * Verify discards the kernel's state, so it is guarded: the server must
 * answer the handshake at the moment of the click (else nothing is
 * restarted), a live kernel is only restarted after "Restart the kernel?" (as
 * JupyterLab asks, with "Don't ask again" kept in this plugin's settings),
 * and while a run is being prepared or runs the command is disabled, so the
 * toolbar button greys out and a second click does nothing.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { CommandToolbarButton } from '@jupyterlab/ui-components';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { getInfo } from './api';
import { watchNotebook } from './comm';
import { reproIcon } from './icons';
import { PANEL_ID, ReproPanel } from './panel';
import { findCell, goToCell } from './snapshot';
import { NotebookReproState } from './state';
import { FRONTEND_VERSION } from './version';

export const PLUGIN_ID = 'repro-jupyter:plugin';

/** The command's name everywhere (palette, toolbar tooltip); the toolbar shows its first word. */
export const VERIFY_LABEL = 'Verify: re-execute and compare';

export namespace CommandIDs {
  export const reexecuteCompare = 'repro:reexecute-compare';
  export const cancelReexecute = 'repro:cancel-reexecute';
  export const showPanel = 'repro:show-panel';
}

/**
 * "Restart the kernel?" before a replay discards `notebook`'s kernel state;
 * resolves true to go on. "Don't ask again" turns `askBeforeRestart` off.
 */
async function confirmRestart(
  notebook: NotebookPanel,
  settings: ISettingRegistry.ISettings | null
): Promise<boolean> {
  if (settings && settings.get('askBeforeRestart').composite === false) {
    return true;
  }
  const name = notebook.context.path.split('/').pop() ?? notebook.context.path;
  const result = await showDialog({
    title: 'Restart the kernel?',
    body:
      `Verify restarts the kernel of ${name} and re-executes every cell with the recorded ` +
      'seeds: all variables in the kernel are lost. The recorded outputs are kept.',
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: 'Restart and verify' })
    ],
    checkbox: settings
      ? {
          label: "Don't ask again",
          caption: 'Verify restarts the kernel without asking'
        }
      : null,
    defaultButton: 0
  });
  if (!result.button.accept) {
    return false;
  }
  if (result.isChecked && settings) {
    await settings.set('askBeforeRestart', false).catch(error => {
      console.warn('repro-jupyter: could not save askBeforeRestart', error);
    });
  }
  return true;
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
  optional: [ICommandPalette, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    registry: ISettingRegistry | null
  ) => {
    const { commands, shell } = app;
    let serverReady = false;
    let settings: ISettingRegistry.ISettings | null = null;
    const settingsLoaded = registry
      ? registry.load(PLUGIN_ID).then(
          loaded => {
            settings = loaded;
          },
          error => console.warn('repro-jupyter: settings not loaded', error)
        )
      : Promise.resolve();
    // Notebooks whose Verify is being prepared (handshake, dialog): busy too.
    const preparing = new Set<NotebookPanel>();
    const busy = (notebook: NotebookPanel): boolean =>
      preparing.has(notebook) || stateFor(notebook).verifier.running;
    const verifyChanged = (): void => {
      commands.notifyCommandChanged(CommandIDs.reexecuteCompare);
      commands.notifyCommandChanged(CommandIDs.cancelReexecute);
    };
    const states = new Map<NotebookPanel, NotebookReproState>();
    const stateFor = (panel: NotebookPanel): NotebookReproState => {
      let state = states.get(panel);
      if (!state) {
        state = new NotebookReproState(panel, () => serverReady);
        states.set(panel, state);
        // A run starting or ending enables or disables the command (and its toolbar button).
        let wasRunning = false;
        state.verifier.stateChanged.connect(verifier => {
          if (verifier.running !== wasRunning) {
            wasRunning = verifier.running;
            verifyChanged();
          }
        });
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
        void commands.execute(CommandIDs.reexecuteCompare, {
          origin: notebook.id
        }),
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
        console.warn(
          `repro-jupyter: server extension missing or mismatched: ${problem}`
        );
      }
      states.forEach(state => state.scheduleRefresh(0));
    });

    commands.addCommand(CommandIDs.reexecuteCompare, {
      label: args => (args.toolbar ? 'Verify' : VERIFY_LABEL),
      caption:
        `${VERIFY_LABEL}: restart the kernel, re-run every cell with the recorded seeds ` +
        'and compare with the recorded outputs',
      icon: args => (args.toolbar ? reproIcon : undefined),
      className: args => (args.toolbar ? 'jp-repro-toolbar-button' : ''),
      isEnabled: args => {
        const notebook = target(args);
        return !!notebook && !busy(notebook);
      },
      execute: async args => {
        const notebook = target(args);
        if (!notebook || busy(notebook)) {
          return; // a second click while a run is prepared or runs does nothing
        }
        const state = stateFor(notebook);
        preparing.add(notebook);
        verifyChanged();
        let go = false;
        try {
          // The server compares and fixes the replay's environment: without
          // it, restarting would only lose the kernel's state.
          const problem = await handshake();
          serverReady = problem === null;
          panel.setHandshake(problem);
          if (problem) {
            shell.activateById(PANEL_ID);
            state.verifier.refuse(
              `the repro-jupyter server extension did not answer (${problem}); ` +
                'the kernel was not restarted.'
            );
            return;
          }
          await settingsLoaded;
          const live = !!notebook.sessionContext.session?.kernel;
          go = !live || (await confirmRestart(notebook, settings));
        } finally {
          preparing.delete(notebook);
          if (!go) {
            verifyChanged();
          }
        }
        if (go && !notebook.isDisposed) {
          shell.activateById(PANEL_ID);
          await state.verifier.run();
        }
        verifyChanged();
      }
    });
    commands.addCommand(CommandIDs.cancelReexecute, {
      label: 'Verify: cancel the re-execution',
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
        // A command button: disabled (JupyterLab's greyed-out look) while
        // the command is, i.e. while this notebook's Verify runs.
        const toolbarButton = new CommandToolbarButton({
          commands,
          id: CommandIDs.reexecuteCompare,
          args: { origin: notebook.id, toolbar: true }
        });
        toolbarButton.addClass('jp-repro-toolbar');
        if (
          !notebook.toolbar.insertAfter(
            'cellType',
            'repro-reexecute',
            toolbarButton
          )
        ) {
          notebook.toolbar.addItem('repro-reexecute', toolbarButton);
        }
        return toolbarButton;
      }
    });

    console.log('JupyterLab extension repro-jupyter is activated!');
  }
};

export default plugin;
