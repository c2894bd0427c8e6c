import { TranslationBundle } from '@jupyterlab/translation';

import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';

import type { Message } from '@lumino/messaging';

import * as React from 'react';

import { Advisories } from './components/Advisories';
import { CreateForm } from './components/CreateForm';
import { EnvActions } from './components/EnvActions';
import { EnvHeader } from './components/EnvHeader';
import { ErrorView } from './components/ErrorView';
import { HistoryView } from './components/HistoryView';
import { JobProgress } from './components/JobProgress';
import { PackageInfo } from './components/PackageInfo';
import { PackagesTable } from './components/PackagesTable';
import { PlanView } from './components/PlanView';
import { SearchPane } from './components/SearchPane';
import { StaleNotice } from './components/StaleNotice';
import { Tabs } from './components/Tabs';

import { PendingChange, Tab, UserPkgModel } from './model';

import {
  ExportFormat,
  IChangeRequest,
  IExportedFile,
  IPolicyAnswer
} from './tokens';

/**
 * What the panel asks of the application.
 */
export interface IPanelActions {
  /** Ask before deleting an env. */
  confirmDelete(env: string): Promise<boolean>;
  openNotebook(kernel: string): void;
  openConsole(kernel: string): void;
  download(file: IExportedFile): void;
  /** Show the administrator's policy. */
  showPolicy(answer: IPolicyAnswer): void;
}

/**
 * The id of the sidebar widget.
 */
export const PANEL_ID = 'jupyter-userpkg-panel';

/**
 * The Packages panel of the left sidebar.
 */
export class UserPkgPanel extends ReactWidget {
  constructor(
    model: UserPkgModel,
    trans: TranslationBundle,
    actions: IPanelActions
  ) {
    super();
    this.model = model;
    this._trans = trans;
    this._actions = actions;
    this.id = PANEL_ID;
    this.addClass('jp-userpkg-panel');
    this.title.caption = trans.__('Packages');
  }

  readonly model: UserPkgModel;

  /**
   * Export the selected env and download the file.
   */
  async exportEnv(format: ExportFormat): Promise<void> {
    try {
      this._actions.download(await this.model.exportEnv(format));
    } catch (reason) {
      this.model.reportError(reason);
    }
  }

  /**
   * Read the administrator's policy and show it.
   */
  async showPolicy(): Promise<void> {
    const answer = await this.model.loadPolicy();
    if (answer) {
      this._actions.showPolicy(answer);
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.model.refreshSoon();
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => <PanelView model={this.model} trans={this._trans} panel={this} actions={this._actions} />}
      </UseSignal>
    );
  }

  private _trans: TranslationBundle;
  private _actions: IPanelActions;
}

/**
 * The title of a plan, in words.
 */
export function pendingTitle(
  trans: TranslationBundle,
  pending: PendingChange
): string {
  if (pending.kind === 'rollback') {
    return trans.__('Roll back %1 to revision %2', pending.env, pending.revision);
  }
  return trans.__('Plan for %1', pending.env);
}

function PanelView(props: {
  model: UserPkgModel;
  trans: TranslationBundle;
  panel: UserPkgPanel;
  actions: IPanelActions;
}): JSX.Element {
  const { model, trans, actions } = props;
  const search = model.search;
  const job = model.job;
  const busy = job !== null || model.planning;
  const env = model.selectedEnv;
  const kernel = model.activeKernel;
  const change = (request: IChangeRequest) => void model.planChange(request);
  const showPolicy = () => void props.panel.showPolicy();
  const onDelete = async (name: string) => {
    if (await actions.confirmDelete(name)) {
      await model.deleteEnv(name);
    }
  };
  const tabs: Array<{ id: Tab; label: string }> = [
    { id: 'packages', label: trans.__('Installed') },
    { id: 'search', label: trans.__('Search') },
    { id: 'history', label: trans.__('History') }
  ];
  const installed = search.info
    ? model.packages.find(p => p.name === search.info?.name)?.version ?? null
    : null;
  return (
    <div className="jp-userpkg-content" aria-busy={model.loading}>
      <EnvHeader
        trans={trans}
        envNames={model.envNames}
        selected={model.selected}
        env={env}
        hasNotebook={kernel !== null}
        notebookKernel={kernel?.name ?? null}
        notebookEnv={model.notebookEnv}
        busy={busy}
        loading={model.loading}
        advisories={model.advisoriesByEnv}
        policyLoading={model.policyLoading}
        onSelect={name => void model.select(name)}
        onCreate={() => model.setCreateOpen(true)}
        onDelete={name => void onDelete(name)}
        onRefresh={() => void model.refresh()}
        onPolicy={showPolicy}
      />
      {model.createOpen && (
        <CreateForm
          trans={trans}
          busy={busy}
          onSubmit={request => void model.createEnv(request)}
          onCancel={() => model.setCreateOpen(false)}
        />
      )}
      {env && (
        <Advisories
          trans={trans}
          env={env.name}
          advisories={model.advisories}
          busy={busy}
          onFix={advisory => void model.planFix(advisory)}
        />
      )}
      <div className="jp-userpkg-messages" aria-live="assertive">
        {model.error && (
          <ErrorView
            trans={trans}
            error={model.error}
            onDismiss={() => model.dismissError()}
            onShowPolicy={showPolicy}
          />
        )}
      </div>
      {job && <JobProgress trans={trans} job={job} onCancel={() => void model.cancelJob()} />}
      {model.planning && (
        <p className="jp-userpkg-planning" role="status">
          {trans.__('Solving…')}
        </p>
      )}
      {model.pending && (
        <PlanView
          trans={trans}
          plan={model.pending.plan}
          title={pendingTitle(trans, model.pending)}
          busy={job !== null}
          conda={model.isConda}
          onApply={() => void model.applyPending()}
          onDiscard={() => model.discardPending()}
        />
      )}
      {model.stale && (
        <StaleNotice
          trans={trans}
          env={model.stale.env}
          modules={model.stale.modules}
          onRestart={() => void model.restartKernel()}
          onDismiss={() => model.dismissStale()}
        />
      )}
      <EnvActions
        trans={trans}
        env={env}
        onExport={format => void props.panel.exportEnv(format)}
        onOpenNotebook={actions.openNotebook}
        onOpenConsole={actions.openConsole}
      />
      <Tabs
        label={trans.__('Packages views')}
        tabs={tabs}
        selected={model.tab}
        onSelect={tab => model.setTab(tab)}
      />
      <div
        className="jp-userpkg-tabpanel"
        role="tabpanel"
        id={`jp-userpkg-tabpanel-${model.tab}`}
        aria-labelledby={`jp-userpkg-tab-${model.tab}`}
      >
        {model.tab === 'packages' && (
          <PackagesTable
            trans={trans}
            packages={model.packages}
            busy={busy}
            advisories={model.advisories}
            onRemove={name => change({ remove: [name] })}
            onUpdate={name => change({ update: [name] })}
            onUpdateAll={() => change({ update_all: true })}
          />
        )}
        {model.tab === 'search' && (
          <SearchPane
            trans={trans}
            query={search.query}
            source={search.source}
            showSource={model.isConda}
            result={search.result}
            searching={search.searching}
            selected={search.info?.name ?? null}
            onQuery={q => search.setQuery(q)}
            onSource={s => search.setSource(s)}
            onPick={hit => void search.showInfo(hit)}
          >
            {search.error && (
              <ErrorView
                trans={trans}
                error={search.error}
                onDismiss={() => search.dismissError()}
                onShowPolicy={showPolicy}
              />
            )}
            {search.info && (
              <PackageInfo
                trans={trans}
                info={search.info}
                installed={installed}
                busy={busy}
                onInstall={spec =>
                  change({
                    install: [spec],
                    ...(model.isConda && search.source === 'pypi' ? { pypi: true } : {})
                  })
                }
                onClose={() => search.closeInfo()}
              />
            )}
          </SearchPane>
        )}
        {model.tab === 'history' && (
          <HistoryView
            trans={trans}
            history={model.history}
            busy={busy}
            onRollback={revision => void model.planRollback(revision)}
          />
        )}
      </div>
    </div>
  );
}
