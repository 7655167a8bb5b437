"""The `curate` command line."""

from __future__ import annotations

import os

import click

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach a hub; a lookup would only time out


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="curate-toolkit")
def cli():
    """Curate crawled text into clean, accounted Parquet shards.

    \b
    curate run pipelines/demo.yaml                      run a pipeline (resumes if interrupted)
    curate run pipelines/web.yaml --input 'crawl/*.jsonl.gz' --output runs/web
    curate report runs/demo                             what came in, what was kept, removed and why
    curate steps                                        the step types a pipeline can use, with their parameters
    curate retune runs/web --set gopher_quality.min_stop_words=1 -o runs/web-2   re-decide from stored scores
    curate dedup in.jsonl -o out.jsonl --removed dups.jsonl   exact + near-duplicate removal on one JSONL file
    """


@cli.command("run")
@click.argument("pipeline", type=click.Path(dir_okay=False))
@click.option("--input", "inputs", multiple=True, metavar="GLOB",
              help="Replace the input paths of the pipeline's (single) input; repeat for several globs.")
@click.option("--output", "-o", metavar="DIR", help="Run folder (default: output.dir of the pipeline).")
@click.option("--tasks", type=int, help="Number of tasks the input files are split into (executor.tasks).")
@click.option("--workers", type=int, help="Tasks run in parallel on this machine (executor.workers).")
@click.option("--executor", type=click.Choice(["local", "slurm", "ray"]), help="Where the tasks run (executor.type).")
@click.option("--ray-address", metavar="ADDR", help="Ray cluster to attach to (default: $RAY_ADDRESS, else a local "
              "instance on 127.0.0.1 for the run).")
@click.option("--strict", is_flag=True, help="Fail on the first bad input record instead of setting it aside.")
@click.option("--force", is_flag=True, help="Delete the run folder and start over (default: resume).")
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar.")
@click.option("--fail-if-kept-below", type=click.FloatRange(0, 1), metavar="FRACTION",
              help="Exit with code 3 when the run keeps less than FRACTION of its input documents (e.g. 0.05).")
@click.option("--html", "html", is_flag=True, help="Also write RUN/report.html (charts; see `curate report`).")
def run_cmd(pipeline, inputs, output, tasks, workers, executor, ray_address, strict, force, no_progress,
            fail_if_kept_below, html):
    """Run PIPELINE (a YAML file) and write shards, removed/, manifest.json and a report.

    Rerunning the same command after a crash resumes and gives the same output as an uninterrupted run.

    \b
    Exit codes: 0 done (warnings, if any, are printed: a run that keeps nothing, removes more than 95% of its
    input, or where one reason removes more than half of a source); 1 the run failed (bad pipeline, a task
    failed, the accounting check failed; rerun to resume); 2 bad command line; 3 --fail-if-kept-below not met.
    """
    from curate.config import ConfigError
    from curate.logs import console_level
    from curate.errors import AccountingError, InvalidRecordError, StageFailed, StepFailed
    from curate.runner import run
    from curate.summary import print_summary

    console_level()
    try:
        state, manifest = run(pipeline, inputs=list(inputs) or None, output=output, tasks=tasks, workers=workers,
                              strict=strict, force=force, progress=not no_progress, executor=executor,
                              ray_address=ray_address)
    except (ConfigError, StageFailed) as e:
        raise click.ClickException(str(e)) from None
    except AccountingError as e:
        raise click.ClickException(f"run failed the accounting check: {e}") from None
    except (InvalidRecordError, StepFailed) as e:  # --strict: the first bad record or failing step ends the run
        raise click.ClickException(f"run failed: {e}") from None
    if state == "submitted":
        click.echo("Jobs submitted. Run the same command again when they have finished to write the manifest.")
        return
    if state == "queued":
        click.echo("Slurm jobs of this run are still queued or running (their ids: logs/slurm_jobs.json in the run "
                   "folder; squeue shows them). Run the same command again when they have finished.")
        return
    if state == "complete":
        click.echo(f"{manifest['run_dir']} is already complete (use --force to run again).")
    print_summary(manifest)
    if os.path.isdir(manifest["run_dir"]):  # (a run published to an object store from another machine: not here)
        check_health(manifest["run_dir"], fail_if_kept_below, html)


def check_health(run_dir: str, fail_if_kept_below: float | None, html: bool) -> None:
    """Print the run's health warnings (and record --fail-if-kept-below's verdict in report.json); exit 3 when
    the run did not keep enough."""
    from curate.health import EXIT_UNHEALTHY, assess
    from curate.report import write_report
    from curate.util import atomic_write_json, read_json

    path = os.path.join(run_dir, "report.json")
    rep = write_report(run_dir, html=True) if html or not os.path.exists(path) else read_json(path)
    health = assess(rep, fail_if_kept_below)
    if fail_if_kept_below is not None:
        rep["health"] = health.to_dict() | {"fail_if_kept_below": fail_if_kept_below}
        atomic_write_json(path, rep)
    for finding in health.warnings:
        click.secho(f"warning: {finding.message}", fg="yellow", err=True)
    if html:
        click.echo(f"report: {os.path.join(run_dir, 'report.html')}")
    for finding in health.errors:
        click.secho(f"error: {finding.message}", fg="red", err=True)
    if health.failed:
        raise SystemExit(EXIT_UNHEALTHY)


@cli.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of Markdown.")
@click.option("--html", "html", is_flag=True,
              help="Also write RUN_DIR/report.html: one self-contained page of charts (funnel, removals by reason x "
                   "source and language, score distributions with thresholds, dedup clusters, licenses, PII, "
                   "samples); prints its path instead of the Markdown.")
def report_cmd(run_dir, as_json, html):
    """Summarise RUN_DIR (documents and bytes per step, removals by reason, languages, sources, licenses, health
    warnings) and write report.md and report.json (and report.html) into it."""
    import json

    from curate.report import to_markdown, write_report

    if not os.path.exists(os.path.join(run_dir, "manifest.json")):
        raise click.ClickException(f"{run_dir} has no manifest.json: the run is not complete (rerun `curate run`)")
    rep = write_report(run_dir, html=html)
    if as_json:
        click.echo(json.dumps(rep, indent=2, ensure_ascii=False, default=str))
    elif html:
        click.echo(os.path.join(run_dir, "report.html"))
    else:
        click.echo(to_markdown(rep))


@cli.command("retune")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--set", "settings", multiple=True, required=True, metavar="STEP.PARAM=VALUE",
              help="A new threshold, e.g. gopher_quality.min_stop_words=1 or lang.thresholds='{en: 0.5}'; repeatable.")
@click.option("--output", "-o", metavar="DIR", help="Write the re-decided run here (default: only print the change).")
def retune_cmd(run_dir, settings, output):
    """Re-decide RUN_DIR's kept/removed from its stored scores with new thresholds, without reading the input.

    Scored steps (language, gopher_*, c4_quality, fineweb_quality, length, quality_classifier) decide again from
    their stored columns; the other steps keep their decisions. With --output a new run folder is written
    (shards, removed/, manifest.json, report); without it the change is printed and nothing is written.
    """
    from curate.retune import RetuneError, retune
    from curate.summary import print_summary

    try:
        outcome = retune(run_dir, list(settings), output=output)
    except RetuneError as e:
        raise click.ClickException(str(e)) from None
    for reason, delta in sorted(outcome.changes.items(), key=lambda kv: -abs(kv[1])):
        click.echo(f"{delta:+8,d}  {reason}")
    if not outcome.changes:
        click.echo("no document changes its fate")
    for step, n in outcome.unchecked.items():
        click.echo(f"note: {n:,} documents passed {step} unchecked: the run removed them before it (retune does "
                   "not redo it; rerun for exact results)")
    if output:
        print_summary(outcome.manifest)
    else:
        m = outcome.manifest
        click.echo(f"kept {m['documents_kept']:,} of {m['documents_in']:,} (dry run: nothing written; "
                   "--output DIR writes the new run)")


@cli.command("steps")
@click.argument("step_type", required=False)
def steps_cmd(step_type):
    """List the step types, or the parameters of STEP_TYPE: type, default and what each one does."""
    import shutil

    from curate.config import did_you_mean
    from curate.steps import STEP_TYPES, step_class
    from curate.steps.help import format_parameters

    if step_type and step_type not in STEP_TYPES:
        raise click.BadParameter(f"unknown step type {step_type!r}{did_you_mean(step_type, STEP_TYPES)}; allowed: "
                                 f"{', '.join(sorted(STEP_TYPES))}", param_hint="STEP_TYPE")
    width = min(shutil.get_terminal_size((100, 24)).columns, 110)
    for name in sorted(STEP_TYPES) if not step_type else [step_type]:
        cls = step_class(name)
        first_paragraph = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())
        click.echo(f"{name}: {first_paragraph}")
        if step_type:
            click.echo(f"  (code: {cls.__module__}.{cls.__name__}; doc: {cls.doc}; tests: {', '.join(cls.tests)})")
            click.echo("\n".join(format_parameters(cls.Params, width)))


# commands that live next to the code they drive
from curate.dedup.cli import dedup_cmd  # noqa: E402
from curate.scrub.cli import scrub_cmd, train_classifier_cmd  # noqa: E402

for command in (dedup_cmd, scrub_cmd, train_classifier_cmd):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="curate")


if __name__ == "__main__":
    main()
