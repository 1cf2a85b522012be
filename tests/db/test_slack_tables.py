"""Migration 0007 spells slack-sdk's installation and OAuth state tables out. When a slack-sdk upgrade
changes its definitions, this fails: the store would then expect a schema no migration made, and a new
migration must bring the tables to it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

MIGRATION = next((Path(__file__).resolve().parents[2] / "db" / "migrations" / "versions").glob("0007_*.py"))


def shape(table: sa.Table) -> dict:
    return {
        "columns": [(c.name, repr(c.type), c.nullable, c.primary_key) for c in table.columns],
        "indexes": sorted((i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes),
    }


def test_the_migrations_tables_are_slack_sdks_current_ones():
    spec = importlib.util.spec_from_file_location("migration_0007", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ours = {t.name: shape(t) for t in module._tables()}
    metadata = sa.MetaData()
    theirs = {t.name: shape(t) for t in (
        SQLAlchemyInstallationStore.build_installations_table(metadata, module.INSTALLATIONS),
        SQLAlchemyInstallationStore.build_bots_table(metadata, module.BOTS),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, module.STATES),
    )}
    assert ours == theirs
