import { TranslationBundle } from '@jupyterlab/translation';

import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';

import type { Message } from '@lumino/messaging';

import * as React from 'react';

import { Advisories } from './components/Advisories';
import { CreateForm } from './components/CreateForm';
import { EnvActions } from './components/EnvActions';
import { EnvHeader } from './components/EnvHeader';
import { activityNode, activityPlace } from './components/Activity';
import { ErrorView } from './components/ErrorView';
import { HistoryView } from './components/HistoryView';
import { KernelNote } from './components/KernelNote';
import { PackageInfo } from './components/PackageInfo';
import { PackageList } from './components/PackageList';
import { RESULTS_ID, SearchPane } from './components/SearchPane';
import { SharedNotice } from './components/SharedNotice';
import { StaleNotice } from './components/StaleNotice';
import { Tabs } from './components/Tabs';

import { changesOff } from './envstate';
import { PendingChange, Tab, UserPkgModel } from './model';

import { normalize } from './policy';

import { installedIndex } from './ranking';

import {
  ExportFormat,
  IChangeRequest,
  IExportedFile,
  IPolicyAnswer,
  envKernel
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
  /** Pick another kernel for the active notebook. */
  changeKernel?: () => void;
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

/**
 * The views under the env's header.
 */
function viewTabs(trans: TranslationBundle): Array<{ id: Tab; label: string }> {
  return [
    { id: 'packages', label: trans.__('Installed') },
    { id: 'search', label: trans.__('Search') },
    { id: 'history', label: trans.__('History') }
  ];
}

/**
 * The restart notice of a change that replaced modules the kernel imported.
 */
function StaleView(props: {
  model: UserPkgModel;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { model, trans } = props;
  if (!model.stale) {
    return null;
  }
  return (
    <StaleNotice
      trans={trans}
      env={model.stale.env}
      modules={model.stale.modules}
      onRestart={() => void model.restartKernel()}
      onDismiss={() => model.dismissStale()}
    />
  );
}

/**
 * A shared env's read-only notice, with the button that layers the user's
 * own env over it (a create, shown and selected like any other).
 */
function SharedView(props: {
  model: UserPkgModel;
  trans: TranslationBundle;
  busy: boolean;
}): JSX.Element | null {
  const { model } = props;
  const env = model.selectedEnv;
  if (!env?.shared) {
    return null;
  }
  return (
    <SharedNotice
      trans={props.trans}
      env={env.name}
      taken={model.envs.map(e => e.name)}
      busy={props.busy}
      onCreate={request => void model.createEnv(request)}
    />
  );
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
  const env = model.selectedEnv;
  const working = job !== null || model.planning;
  const busy = changesOff(working, env);
  const showPolicy = () => void props.panel.showPolicy();
  const activity = activityNode(
    model,
    trans,
    model.pending ? pendingTitle(trans, model.pending) : '',
    showPolicy
  );
  const place = activityPlace(model.origin, model.tab, search.info?.name ?? null);
  return (
    <div className="jp-userpkg-content" aria-busy={model.loading}>
      <HeaderView
        model={model}
        trans={trans}
        busy={busy}
        confirmDelete={actions.confirmDelete}
        onPolicy={showPolicy}
        onChangeKernel={actions.changeKernel}
      />
      {model.createOpen && (
        <CreateForm
          trans={trans}
          busy={working}
          kinds={model.kinds}
          onSubmit={request => void model.createEnv(request)}
          onCancel={() => model.setCreateOpen(false)}
        />
      )}
      <SharedView model={model} trans={trans} busy={working} />
      {env && (
        <Advisories
          trans={trans}
          env={env.name}
          advisories={model.advisories}
          busy={busy}
          onFix={advisory => {
            model.setOrigin(null);
            void model.planFix(advisory);
          }}
        />
      )}
      {place === 'top' && activity}
      <StaleView model={model} trans={trans} />
      <EnvActions
        trans={trans}
        env={env}
        kind={model.selectedKind}
        onExport={format => void props.panel.exportEnv(format)}
        onOpenNotebook={actions.openNotebook}
        onOpenConsole={actions.openConsole}
      />
      <Tabs
        label={trans.__('Packages views')}
        tabs={viewTabs(trans)}
        selected={model.tab}
        onSelect={tab => model.setTab(tab)}
      />
      <TabContent
        model={model}
        trans={trans}
        busy={busy}
        activity={activity}
        onShowPolicy={showPolicy}
      />
    </div>
  );
}

/**
 * The env picker and its buttons, for the model's envs.
 */
function HeaderView(props: {
  model: UserPkgModel;
  trans: TranslationBundle;
  busy: boolean;
  confirmDelete: (env: string) => Promise<boolean>;
  onPolicy: () => void;
  onChangeKernel?: () => void;
}): JSX.Element {
  const { model } = props;
  const kernel = model.activeKernel;
  const onDelete = async (name: string) => {
    if (await props.confirmDelete(name)) {
      await model.deleteEnv(name);
    }
  };
  const active = envKernel(model.envs, kernel?.name);
  return (
    <>
      <EnvHeader
        trans={props.trans}
        envNames={model.envNames}
        sharedEnvs={model.envs.filter(e => e.shared).map(e => e.name)}
        selected={model.selected}
        env={model.selectedEnv}
        defaultKind={model.defaultKind}
        hasNotebook={kernel !== null}
        notebookKernel={kernel?.name ?? null}
        notebookEnv={model.notebookEnv}
        busy={props.busy}
        loading={model.loading}
        advisories={model.advisoriesByEnv}
        policyLoading={model.policyLoading}
        onSelect={name => void model.select(name)}
        onCreate={() => model.setCreateOpen(true)}
        onDelete={name => void onDelete(name)}
        onRefresh={() => void model.refresh()}
        onPolicy={props.onPolicy}
        onChangeKernel={props.onChangeKernel}
      />
      <KernelNote
        trans={props.trans}
        env={active?.env ?? null}
        kernel={active?.kernel ?? null}
      />
    </>
  );
}

/**
 * The tab shown: installed packages, search or history, with what an
 * action taken there brought (see `activityPlace`).
 */
function TabContent(props: {
  model: UserPkgModel;
  trans: TranslationBundle;
  busy: boolean;
  activity: React.ReactNode;
  onShowPolicy: () => void;
}): JSX.Element {
  const { model, trans, busy, activity } = props;
  const place = activityPlace(model.origin, model.tab, model.search.info?.name ?? null);
  const change = (request: IChangeRequest, origin: string | null) =>
    void model.planChange(request, origin);
  return (
    <div
      className="jp-userpkg-tabpanel"
      role="tabpanel"
      id={`jp-userpkg-tabpanel-${model.tab}`}
      aria-labelledby={`jp-userpkg-tab-${model.tab}`}
    >
      {model.tab === 'packages' && (
        <PackageList
          trans={trans}
          packages={model.packages}
          extendsBase={model.selectedKind?.base ?? false}
          // Not while a plan is solved: the row's button keeps the focus
          // that the plan gives back when it closes; a new request replaces it.
          busy={changesOff(model.job !== null, model.selectedEnv)}
          advisories={model.advisories}
          activity={
            place !== 'top' && place.tab === 'packages'
              ? { name: place.name, node: activity }
              : null
          }
          onRemove={name => change({ remove: [name] }, `package:${name}`)}
          onUpdate={name => change({ update: [name] }, `package:${name}`)}
          onUpdateAll={() => change({ update_all: true }, 'update-all')}
          dependents={name => model.service.dependents(model.selected, name)}
        />
      )}
      {model.tab === 'search' && (
        <SearchTab
          model={model}
          trans={trans}
          busy={busy}
          activity={place !== 'top' && place.tab === 'search' ? activity : null}
          onShowPolicy={props.onShowPolicy}
        />
      )}
      {model.tab === 'history' && (
        <HistoryView
          trans={trans}
          history={model.history}
          busy={busy}
          activity={
            place !== 'top' && place.tab === 'history'
              ? { revision: place.revision, node: activity }
              : null
          }
          onRollback={revision => void model.planRollback(revision)}
        />
      )}
    </div>
  );
}

/**
 * The Search tab: the query, the ranked results, and the details of the
 * one picked, with what installing it brought under them.
 */
function SearchTab(props: {
  model: UserPkgModel;
  trans: TranslationBundle;
  busy: boolean;
  activity: React.ReactNode;
  onShowPolicy: () => void;
}): JSX.Element {
  const { model, trans, busy } = props;
  const search = model.search;
  const info = search.info;
  const installed = React.useMemo(
    () => installedIndex(model.selected, model.packages, model.otherEnvs),
    [model.selected, model.packages, model.otherEnvs]
  );
  const here = info ? installed.get(normalize(info.name))?.here ?? null : null;
  // A kind with channels searches them or PyPI; PyPI packages are asked for as such.
  const channels = model.selectedKind?.channels ?? false;
  return (
    <SearchPane
      trans={trans}
      query={search.query}
      source={search.source}
      showSource={channels}
      result={search.result}
      searching={search.searching}
      slow={search.slow}
      selected={info?.name ?? null}
      installed={installed}
      onQuery={q => search.setQuery(q)}
      onSource={s => search.setSource(s)}
      onPick={hit => void search.showInfo(hit)}
    >
      {search.error && (
        <ErrorView
          trans={trans}
          error={search.error}
          takeFocus={false}
          onDismiss={() => search.dismissError()}
          onShowPolicy={props.onShowPolicy}
        />
      )}
      {info && (
        <PackageInfo
          key={`${info.source}:${info.name}`}
          trans={trans}
          info={info}
          installed={here}
          busy={busy}
          onInstall={spec =>
            void model.planChange(
              {
                install: [spec],
                ...(channels && search.source === 'pypi' ? { pypi: true } : {})
              },
              `info:${info.name}`
            )
          }
          onUpdate={name =>
            void model.planChange(
              {
                update: [name],
                ...(channels && search.source === 'pypi' ? { pypi: true } : {})
              },
              `info:${info.name}`
            )
          }
          onClose={() => {
            search.closeInfo();
            // Back to the result the details were opened from.
            requestAnimationFrame(() =>
              document.getElementById(RESULTS_ID)?.focus({ preventScroll: true })
            );
          }}
        >
          {props.activity}
        </PackageInfo>
      )}
    </SearchPane>
  );
}
