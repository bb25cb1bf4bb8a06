"""Which dirs `regdna train` takes for a run dir (to continue with --resume or start over)."""
from regdna.runs import layout
from regdna.utils.output import mark_dir


def test_a_project_dir_with_a_config_yaml_is_not_a_run(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.yaml").write_text("name: my analysis\n")
    (project / "notes.txt").write_text("mine")
    assert not layout.is_run_dir(project)


def test_run_dirs_by_marker_and_from_before_markers(tmp_path):
    marked = tmp_path / "marked"
    marked.mkdir()
    mark_dir(marked, layout.RUN_VERB)
    assert layout.is_run_dir(marked)
    other = tmp_path / "other"
    other.mkdir()
    mark_dir(other, "tune")
    (other / "config.yaml").write_text("{}\n")
    layout.checkpoints_dir(other).mkdir()
    assert not layout.is_run_dir(other)
    legacy = tmp_path / "legacy"
    layout.checkpoints_dir(legacy).mkdir(parents=True)
    (legacy / "config.yaml").write_text("{}\n")
    assert layout.is_run_dir(legacy)
