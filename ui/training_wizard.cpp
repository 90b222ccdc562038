#include "ui/training_wizard.h"

#include <QAbstractButton>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMessageBox>
#include <QRegularExpression>

#include "ui/wizard_concept_page.h"
#include "ui/wizard_prompts_page.h"
#include "ui/wizard_settings_page.h"
#include "ui/wizard_training_page.h"

namespace respo::ui {

namespace c = respo::concepts;

namespace {

// A file name from a concept name: letters, digits, '-' and '_' kept, the rest '-'.
QString fileStem(const QString& name) {
  QString out;
  for (const QChar ch : name.trimmed()) out += (ch.isLetterOrNumber() || ch == '-' || ch == '_') ? ch : QChar('-');
  while (out.contains("--")) out.replace("--", "-");
  out = out.remove(QRegularExpression("^-+|-+$"));
  return out.isEmpty() ? QStringLiteral("concept") : out;
}

}  // namespace

TrainingWizard::TrainingWizard(GenerationWorker* worker, QString currentModel, QWidget* parent)
    : QWizard(parent), worker_(worker), currentModel_(std::move(currentModel)) {
  setObjectName("trainingWizard");
  setWindowTitle(tr("Train a new concept"));
  setWizardStyle(QWizard::ModernStyle);
  setOption(QWizard::NoBackButtonOnLastPage, false);
  setOption(QWizard::HaveHelpButton, false);
  resize(860, 760);
  concept_ = new ConceptDefinitionPage(currentModel_);
  prompts_ = new PromptListsPage;
  settings_ = new TrainingSettingsPage;
  run_ = new TrainingRunPage;
  setPage(ConceptPage, concept_);
  setPage(PromptsPage, prompts_);
  setPage(SettingsPage, settings_);
  setPage(TrainingPage, run_);
  setButtonText(QWizard::FinishButton, tr("Close"));
  connect(concept_, &ConceptDefinitionPage::kindChanged, prompts_, &PromptListsPage::setSafety);
  connect(concept_, &ConceptDefinitionPage::presetChosen, this,
          [this](const QString& name) { applySettings(c::preset(name.toStdString())); });
  connect(concept_, &ConceptDefinitionPage::resumeRequested, this, &TrainingWizard::resumeSelected);
  connect(concept_, &ConceptDefinitionPage::discardRequested, this, &TrainingWizard::discardSelected);
  connect(run_, &TrainingRunPage::trainRequested, this, &TrainingWizard::startTraining);
  connect(run_, &TrainingRunPage::pauseRequested, this, &TrainingWizard::pauseTraining);
  applySettings(c::preset("gender-woman"));
  concept_->selectPreset("gender-woman");

  connect(worker_, &GenerationWorker::trainingProgressed, this, &TrainingWizard::onProgress);
  connect(worker_, &GenerationWorker::trainingFinished, this, &TrainingWizard::onFinished);
  connect(worker_, &GenerationWorker::trainingYielded, this, [this](int id) {
    if (id == taskId_) run_->setStatus(tr("Waiting while the main window generates; training continues after it."));
  });
  connect(worker_, &GenerationWorker::taskCancelled, this, [this](int id) { onEnded(id, {}, false); });
  connect(worker_, &GenerationWorker::taskFailed, this, [this](int id, const QString& m) { onEnded(id, m, true); });
  connect(this, &QWizard::currentIdChanged, this, [this](int) { updateButtons(); });
  refreshUnfinished();
}

TrainingWizard::~TrainingWizard() {
  if (taskId_ != 0) worker_->cancel(taskId_);
}

void TrainingWizard::setCurrentModel(const QString& path) {
  const bool followed = concept_->baseModel() == currentModel_ || concept_->baseModel().isEmpty();
  currentModel_ = path;
  if (followed) concept_->setBaseModel(path);
}

void TrainingWizard::applySettings(const c::ConceptSettings& s) {
  concept_->apply(s);
  prompts_->apply(s);
  settings_->apply(s);
}

c::ConceptSettings TrainingWizard::settings() const {
  c::ConceptSettings s;
  concept_->read(s);
  prompts_->read(s);
  settings_->read(s);
  return s;
}

QString TrainingWizard::outputFile(const c::ConceptSettings& s) const {
  if (resumeOutput_) return *resumeOutput_;
  const auto folders = worker_->conceptFolders();
  const QDir folder(QString::fromStdString(folders.front().string()));
  return folder.filePath(fileStem(QString::fromStdString(s.name)) + ".safetensors");
}

respo::gpu::TrainingJob TrainingWizard::trainingJob() const {
  respo::gpu::TrainingJob job;
  job.settings = settings();
  job.output = outputFile(job.settings).toStdString();
  job.checkpointEvery = settings_->checkpointEvery();
  job.previewEvery = settings_->previewEvery();
  job.previewPrompt = settings_->previewPrompt().toStdString();
  job.resume = true;
  return job;
}

bool TrainingWizard::validateCurrentPage() {
  const auto s = settings();
  QString problem;
  if (currentId() == ConceptPage) {
    problem = concept_->problem();
  } else if (currentId() == PromptsPage) {
    problem = prompts_->problem(s);
  } else if (currentId() == SettingsPage) {
    const auto problems = s.validate();
    if (!problems.empty()) problem = QString::fromStdString(problems.front());
  } else if (currentId() == TrainingPage && isTraining()) {
    problem = tr("Training is still running; pause it first (it resumes from its checkpoint).");
  }
  if (problem.isEmpty()) return true;
  QMessageBox::warning(this, tr("Train a new concept"), problem);
  return false;
}

void TrainingWizard::refreshUnfinished() { concept_->setUnfinished(worker_->unfinishedTrainings()); }

void TrainingWizard::resumeSelected() {
  const QString checkpoint = concept_->selectedCheckpoint();
  if (checkpoint.isEmpty()) return;
  for (const auto& run : worker_->unfinishedTrainings()) {
    if (QString::fromStdString(run.checkpoint.string()) != checkpoint) continue;
    resumeOutput_ = concept_->selectedOutput();
    applySettings(run.settings);
    concept_->selectPreset({});
    // Pages in between are checked on the way; the run's own settings pass.
    while (currentId() != TrainingPage && validateCurrentPage()) next();
    if (currentId() == TrainingPage) startTraining();
    return;
  }
  refreshUnfinished();  // it finished or vanished meanwhile
}

void TrainingWizard::discardSelected() {
  const QString checkpoint = concept_->selectedCheckpoint();
  if (checkpoint.isEmpty() || isTraining()) return;
  const auto answer = QMessageBox::question(this, tr("Discard the run"),
                                            tr("Delete the checkpoint of \"%1\"? Its progress is lost.").arg(concept_->selectedLabel()));
  if (answer != QMessageBox::Yes) return;
  if (!QFile::remove(checkpoint)) QMessageBox::warning(this, tr("Discard the run"), tr("Cannot delete %1").arg(checkpoint));
  refreshUnfinished();
}

void TrainingWizard::startTraining() {
  if (isTraining()) return;
  const auto s = settings();
  const auto problems = s.validate();
  if (!problems.empty()) {
    run_->setStatus(tr("Cannot train: %1").arg(QString::fromStdString(problems.front())));
    return;
  }
  // A fresh run must not silently replace a module of the same name.
  const auto job = trainingJob();
  const QString output = QString::fromStdString(job.output.string());
  const bool hasCheckpoint = QFileInfo::exists(QString::fromStdString(respo::gpu::GenerationService::checkpointPath(job.output).string()));
  if (!finished_ && !hasCheckpoint && QFileInfo::exists(output) &&
      QMessageBox::question(this, tr("Train a new concept"),
                            tr("%1 already exists. Replace it with the module this run trains?")
                                .arg(QDir::toNativeSeparators(output))) != QMessageBox::Yes)
    return;
  const QString model = concept_->baseModel();
  if (!model.isEmpty() && model != currentModel_) {
    // The app has one model; the worker loads this one first, and the main window follows.
    Q_EMIT modelRequested(model);
    currentModel_ = model;
  }
  finished_ = false;
  pausing_ = false;
  savedModule_.clear();
  run_->begin(s.steps);
  taskId_ = worker_->enqueueTraining(job);
  Q_EMIT trainingStateChanged(true);
  updateButtons();
}

void TrainingWizard::pauseTraining() {
  if (!isTraining()) return;
  pausing_ = true;
  run_->setStatus(tr("Pausing at the next step..."));
  worker_->cancel(taskId_);
}

void TrainingWizard::onProgress(int id, const TrainingStatus& status) {
  if (id == taskId_) run_->showProgress(status);
}

void TrainingWizard::onFinished(int id, const TrainingResult& result) {
  if (id != taskId_) return;
  taskId_ = 0;
  finished_ = true;
  resumeOutput_.reset();
  savedModule_ = result.file;
  run_->showFinished(result);
  refreshUnfinished();
  Q_EMIT trainingStateChanged(false);
  Q_EMIT moduleSaved(result.file);
  updateButtons();
}

void TrainingWizard::onEnded(int id, const QString& message, bool failed) {
  if (id != taskId_) return;
  taskId_ = 0;
  run_->showEnded(message, failed);
  pausing_ = false;
  refreshUnfinished();
  Q_EMIT trainingStateChanged(false);
  updateButtons();
}

void TrainingWizard::updateButtons() {
  const bool training = isTraining();
  run_->updateButtons(training, pausing_, finished_);
  if (auto* back = button(QWizard::BackButton)) back->setEnabled(!training && currentId() != ConceptPage);
}

void TrainingWizard::reject() {
  if (isTraining()) {
    const auto answer = QMessageBox::question(this, tr("Train a new concept"),
                                              tr("Stop training? The run keeps its checkpoint and can be resumed from "
                                                 "this wizard's first page."));
    if (answer != QMessageBox::Yes) return;
    worker_->cancel(taskId_);
    taskId_ = 0;
    Q_EMIT trainingStateChanged(false);
  }
  QWizard::reject();
}

}  // namespace respo::ui
