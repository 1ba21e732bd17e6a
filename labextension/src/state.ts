/**
 * What the panel knows about one open notebook: the server's provenance,
 * lineage and environment diff, refreshed (debounced) when the notebook's
 * metadata changes, a cell runs or the file is saved; plus the notebook's
 * badges and its re-execution.
 */
import type { ICellModel } from '@jupyterlab/cells';
import { NotebookActions, type NotebookPanel } from '@jupyterlab/notebook';
import type { IObservableList } from '@jupyterlab/observables';
import { Signal, type ISignal } from '@lumino/signaling';
import {
  getPanel,
  type IEnvDiff,
  type ILineage,
  type IProvenance
} from './api';
import { NotebookBadges } from './badges';
import {
  forgetUnwritten,
  hasComm,
  METADATA_KEY,
  onRecordsWritten,
  requestEnvironment,
  unwrittenRecords
} from './comm';
import { takeSnapshot } from './snapshot';
import { NotebookVerifier } from './verify';

/** A section's data, or why there is none. */
export interface ISection<T> {
  data: T | null;
  /** A one-line error (server) or note (e.g. "no kernel"). */
  note: string | null;
  error: boolean;
}

const empty = <T>(): ISection<T> => ({ data: null, note: null, error: false });

/** The longest a refresh waits for records the kernel announced to be written (then it asks anyway). */
const UNWRITTEN_WAIT_MS = 15_000;

type Settled<T> =
  { status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown };

/** `Promise.allSettled` for one promise (the lib target is ES2018). */
function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    value => ({ status: 'fulfilled' as const, value }),
    reason => ({ status: 'rejected' as const, reason })
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class NotebookReproState {
  constructor(
    readonly panel: NotebookPanel,
    private readonly _serverReady: () => boolean
  ) {
    this.badges = new NotebookBadges(panel);
    this.verifier = new NotebookVerifier(panel, this.badges);
    this.verifier.stateChanged.connect(() => {
      if (!this.verifier.running) {
        this.scheduleRefresh();
      }
    });
    onRecordsWritten(panel, () => this.scheduleRefresh(0));
    void panel.context.ready.then(() => this._connect());
  }

  readonly badges: NotebookBadges;
  readonly verifier: NotebookVerifier;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  provenance: ISection<IProvenance> = empty();
  lineage: ISection<ILineage> = empty();
  envdiff: ISection<IEnvDiff> = empty();
  /** True while a refresh is in flight. */
  loading = false;

  /** Refresh after a short quiet period (many metadata writes come in bursts). */
  scheduleRefresh(delay = 400): void {
    if (this.panel.isDisposed) {
      return;
    }
    clearTimeout(this._timer);
    this._timer = setTimeout(() => void this.refresh(), delay);
  }

  /** Ask the server again (skipped while the notebook is being re-executed). */
  async refresh(): Promise<void> {
    if (
      this.panel.isDisposed ||
      this.verifier.running ||
      !this.panel.context.isReady
    ) {
      return;
    }
    if (!this._serverReady()) {
      this._changed.emit();
      return;
    }
    // Ask about records once they are on disk (the kernel says `record_written`; see comm.ts), so
    // the server never reads one mid-write; a kernel that never says so is not waited for forever.
    if (unwrittenRecords(this.panel) > 0) {
      this._unwrittenSince ??= Date.now();
      if (Date.now() - this._unwrittenSince < UNWRITTEN_WAIT_MS) {
        this.scheduleRefresh(1000);
        return;
      }
      forgetUnwritten(this.panel); // waited long enough: never again for these records
    }
    this._unwrittenSince = null;
    const generation = ++this._generation;
    this.loading = true;
    this._changed.emit();
    const path = this.panel.context.path;
    const environment = await this._kernelEnvironment();
    const notebook = takeSnapshot(this.panel);
    const reply = await settle(getPanel(path, notebook, environment.digest));
    if (generation !== this._generation || this.panel.isDisposed) {
      return; // a newer refresh is under way
    }
    if (reply.status === 'fulfilled') {
      const { provenance, lineage, envdiff, problems } = reply.value;
      this.provenance = {
        data: provenance,
        note: provenance.store.problem,
        error: false
      };
      this.lineage = lineage
        ? { data: lineage, note: null, error: false }
        : { data: null, note: problems.lineage ?? null, error: true };
      this.envdiff = !provenance.recorded
        ? { data: null, note: 'Nothing recorded yet.', error: false }
        : envdiff
          ? { data: envdiff, note: null, error: false }
          : problems.envdiff
            ? { data: null, note: problems.envdiff, error: true }
            : environment.why;
    } else {
      const failed = {
        data: null,
        note: describe(reply.reason),
        error: true
      };
      this.provenance = failed;
      this.lineage = failed;
      this.envdiff = failed;
    }
    this.loading = false;
    this.badges.setProvenance(this.provenance.data?.cells ?? []);
    this._changed.emit();
  }

  dispose(): void {
    clearTimeout(this._timer);
    Signal.clearData(this);
  }

  /**
   * The kernel's environment digest for the diff, or why there is none. Only
   * asked when the notebook holds our metadata: answering makes the kernel
   * write its environment into the store, which a notebook that records
   * nothing must not get.
   */
  private async _kernelEnvironment(): Promise<{
    digest: string | null;
    why: ISection<IEnvDiff>;
  }> {
    const none = (note: string, error = false) => ({
      digest: null,
      why: { data: null, note, error }
    });
    if (!this.panel.model?.getMetadata(METADATA_KEY)) {
      return none('Nothing recorded yet.');
    }
    if (!this.panel.sessionContext.session?.kernel) {
      return none('No kernel running: start one to compare environments.');
    }
    if (!hasComm(this.panel)) {
      return none(
        'The kernel has not loaded repro_jupyter (run %load_ext repro_jupyter).'
      );
    }
    const digest = await requestEnvironment(this.panel);
    return digest
      ? { digest, why: empty() }
      : none('The kernel did not report its environment.', true);
  }

  private _connect(): void {
    const panel = this.panel;
    const model = panel.context.model;
    const refresh = (): void => this.scheduleRefresh();
    model.metadataChanged.connect(refresh, this);
    panel.context.fileChanged.connect(refresh, this);
    panel.sessionContext.kernelChanged.connect(refresh, this);
    const watchCell = (cell: ICellModel): void => {
      cell.metadataChanged.connect(refresh, this);
    };
    for (const cell of model.cells) {
      watchCell(cell);
    }
    model.cells.changed.connect(
      (_: unknown, change: IObservableList.IChangedArgs<ICellModel>) => {
        change.newValues.forEach(watchCell);
        this.badges.render();
        refresh();
      },
      this
    );
    NotebookActions.executed.connect((_, args) => {
      if (args.notebook === panel.content) {
        this.verifier.forgetCell(args.cell.model.id);
        refresh();
      }
    }, this);
    panel.disposed.connect(() => this.dispose());
    this.scheduleRefresh(0);
  }

  private _changed = new Signal<this, void>(this);
  private _timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _generation = 0;
  private _unwrittenSince: number | null = null;
}
