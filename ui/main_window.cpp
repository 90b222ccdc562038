#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QVBoxLayout>
#include <filesystem>

#include "core/common/error.h"
#include "core/io/image.h"
#include "core/pipeline/generation_parameters.h"
#include "core/respo/concept_parameters.h"
#include "ui/comparison_view.h"
#include "ui/concept_panel.h"
#include "ui/model_picker.h"
#include "ui/parameter_form.h"
#include "ui/report_dialog.h"
#include "ui/training_wizard.h"

namespace respo::ui {

MainWindow::MainWindow(AppInfo info, QWidget* parent) : QMainWindow(parent), info_(std::move(info)) {
  setWindowTitle(tr("RespoDiff Studio"));
  setObjectName("mainWindow");
  resize(1280, 860);

  worker_ = new GenerationWorker(&workerThread_);
  connect(&workerThread_, &QThread::finished, worker_, &QObject::deleteLater);
  workerThread_.setObjectName("generation worker");
  workerThread_.start();

  // Left: model, parameters, actions, concepts. Right: the comparison.
  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  picker_ = new ModelPicker(QString::fromStdString(respo::gpu::GenerationService::defaultModelPath().string()), left);
  leftLayout->addWidget(picker_);
  form_ = new ParameterForm(left);
  leftLayout->addWidget(form_);
  auto* buttons = new QHBoxLayout;
  generateButton_ = new QPushButton(tr("Generate"), left);
  generateButton_->setObjectName("generateButton");
  generateButton_->setDefault(true);
  cancelButton_ = new QPushButton(tr("Cancel"), left);
  cancelButton_->setObjectName("cancelButton");
  liveUpdate_ = new QCheckBox(tr("Re-render on concept changes"), left);
  liveUpdate_->setObjectName("liveUpdateCheck");
  liveUpdate_->setChecked(true);
  liveUpdate_->setToolTip(tr("After a generation, changing a concept or strength re-renders the responsible "
                             "side at once (the baseline is reused)"));
  buttons->addWidget(generateButton_, 1);
  buttons->addWidget(cancelButton_);
  leftLayout->addLayout(buttons);
  leftLayout->addWidget(liveUpdate_);
  auto* conceptBox = new QGroupBox(tr("Concepts"), left);
  auto* conceptLayout = new QVBoxLayout(conceptBox);
  concepts_ = new ConceptPanel(conceptBox);
  conceptLayout->addWidget(concepts_);
  leftLayout->addWidget(conceptBox, 1);
  comparison_ = new ComparisonView(this);
  splitter_ = new QSplitter(this);
  splitter_->setObjectName("mainSplitter");
  splitter_->addWidget(left);
  splitter_->addWidget(comparison_);
  splitter_->setStretchFactor(1, 1);
  splitter_->setSizes({460, 820});
  setCentralWidget(splitter_);

  history_ = new HistoryPanel(this);
  historyDock_ = new QDockWidget(tr("History"), this);
  historyDock_->setObjectName("historyDock");
  historyDock_->setWidget(history_);
  historyDock_->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                            QDockWidget::DockWidgetClosable);
  addDockWidget(Qt::BottomDockWidgetArea, historyDock_);
  resizeDocks({historyDock_}, {150}, Qt::Vertical);
  setAcceptDrops(true);

  progress_ = new QProgressBar(this);
  progress_->setObjectName("progressBar");
  progress_->setMaximumWidth(220);
  progress_->setTextVisible(false);
  progressLabel_ = new QLabel(this);
  progressLabel_->setObjectName("progressLabel");
  modelLabel_ = new QLabel(tr("No model"), this);
  modelLabel_->setObjectName("modelLabel");
  deviceLabel_ = new QLabel(info_.computeDevice, this);
  deviceLabel_->setObjectName("deviceLabel");
  statusBar()->addPermanentWidget(progressLabel_);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(modelLabel_);
  statusBar()->addPermanentWidget(deviceLabel_);
  buildActions();
  loadSettings();
  if (!info_.outputFolder.isEmpty()) outputFolder_ = info_.outputFolder;
  history_->addFolder(outputFolder_);

  connect(history_, &HistoryPanel::entryActivated, this, &MainWindow::restoreEntry);
  connect(history_, &HistoryPanel::removeQueuedRequested, this, [this](int id) {
    if (worker_->remove(id)) {
      history_->removeJob(id);
      liveJobs_.remove(id);
      statusBar()->showMessage(tr("Removed a job from the queue"), 5000);
    } else if (id == runningJob_) {
      progressLabel_->setText(tr("Cancelling..."));
      worker_->cancel(id);
    }
  });
  connect(picker_, &ModelPicker::modelRequested, this, &MainWindow::openModel);
  connect(generateButton_, &QPushButton::clicked, this, &MainWindow::generate);
  connect(cancelButton_, &QPushButton::clicked, this, &MainWindow::cancel);
  connect(concepts_, &ConceptPanel::conceptsEdited, this, &MainWindow::onConceptsEdited);
  connect(form_, &ParameterForm::sizeChanged, worker_, &GenerationWorker::refreshConcepts);
  connect(worker_, &GenerationWorker::modelLoadProgressed, this, [this](const QString& s) { statusBar()->showMessage(s); });
  connect(worker_, &GenerationWorker::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(worker_, &GenerationWorker::modelLoadFailed, this, &MainWindow::onModelLoadFailed);
  connect(worker_, &GenerationWorker::conceptsChanged, this, [this](const ConceptList& concepts) {
    conceptList_ = concepts;
    concepts_->setConcepts(concepts);
    if (report_) report_->setConcepts(concepts, {});
    if (announceReady_) {
      announceReady_ = false;
      Q_EMIT modelReady(model_);
    }
  });
  connect(worker_, &GenerationWorker::queueChanged, this, [this](int queued) {
    queuedJobs_ = queued;
    updateBusyState();
  });
  connect(worker_, &GenerationWorker::jobStarted, this, [this](int id) {
    runningJob_ = id;
    history_->setRunning(id);
    progress_->setRange(0, 0);
    progressLabel_->setText(tr("Starting..."));
    updateBusyState();
  });
  connect(worker_, &GenerationWorker::phaseStarted, this, [this](int, respo::gpu::GenerationPhase phase) {
    previewOnResponsibleSide_ = phase == respo::gpu::GenerationPhase::Responsible;
  });
  connect(worker_, &GenerationWorker::stepProgressed, this, &MainWindow::onStepProgressed);
  // Background tasks share the worker: say so, since generations wait for them.
  connect(worker_, &GenerationWorker::trainingProgressed, this, [this](int, const TrainingStatus& status) {
    if (!isBusy()) progressLabel_->setText(tr("Training a concept: step %1/%2").arg(status.step).arg(status.total));
  });
  connect(worker_, &GenerationWorker::reportProgressed, this, [this](int, int done, int total) {
    if (!isBusy()) progressLabel_->setText(tr("Fairness report: %1/%2 batches").arg(done).arg(total));
  });
  connect(worker_, &GenerationWorker::jobFinished, this, &MainWindow::onJobFinished);
  connect(worker_, &GenerationWorker::jobCancelled, this, [this](int id) { onJobEnded(id, tr("Cancelled")); });
  connect(worker_, &GenerationWorker::jobFailed, this, [this](int id, const QString& message) {
    onJobEnded(id, tr("Generation failed"));
    showError(tr("Generation failed"), message);
  });
  updateBusyState();

  if (!info_.loadModelOnStart) return;
  const QString startup = info_.initialModel.isEmpty() ? picker_->startupModel() : info_.initialModel;
  if (QFileInfo::exists(startup)) {
    openModel(startup);
  } else {
    statusBar()->showMessage(tr("The embedded toy-world model is not installed (%1). Use \"Open model...\" to "
                                "pick a Stable Diffusion model.").arg(QDir::toNativeSeparators(startup)));
  }
}

MainWindow::~MainWindow() {
  saveSettings();
  worker_->shutdown();
  workerThread_.quit();
  workerThread_.wait();  // the worker is deleted as the thread finishes
}

void MainWindow::buildActions() {
  auto* fileMenu = menuBar()->addMenu(tr("&File"));
  fileMenu->addAction(tr("Open model &folder..."), picker_, &ModelPicker::openFolder);
  fileMenu->addAction(tr("Open model f&ile..."), picker_, &ModelPicker::openFile);
  saveAction_ = fileMenu->addAction(tr("&Save images..."), this, &MainWindow::save);
  saveAction_->setShortcut(QKeySequence::Save);
  exportSheetAction_ = fileMenu->addAction(tr("&Export comparison sheet..."), this, &MainWindow::exportComparisonSheetDialog);
  exportSheetAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
  auto* restore = fileMenu->addAction(tr("&Restore settings from image..."), this, &MainWindow::restoreFromFileDialog);
  restore->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  restore->setToolTip(tr("Or drop a saved PNG onto the window"));
  fileMenu->addSeparator();
  fileMenu->addAction(tr("&Output folder..."), this, &MainWindow::chooseOutputFolder);
  autosaveAction_ = fileMenu->addAction(tr("Save every &generation"));
  autosaveAction_->setObjectName("autosaveAction");
  autosaveAction_->setCheckable(true);
  autosaveAction_->setChecked(true);
  fileMenu->addSeparator();
  auto* quit = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  auto* runMenu = menuBar()->addMenu(tr("&Generate"));
  generateAction_ = runMenu->addAction(tr("&Generate"), this, &MainWindow::generate);
  generateAction_->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
  generateAction_->setObjectName("generateAction");
  cancelAction_ = runMenu->addAction(tr("&Cancel"), this, &MainWindow::cancel);
  cancelAction_->setShortcut(QKeySequence(Qt::Key_Escape));
  cancelAction_->setObjectName("cancelAction");
  generateButton_->setToolTip(tr("Generate the baseline and the responsible images (%1)")
                                  .arg(generateAction_->shortcut().toString(QKeySequence::NativeText)));

  auto* conceptMenu = menuBar()->addMenu(tr("&Concepts"));
  auto* train = conceptMenu->addAction(tr("&Train a new concept..."), this, &MainWindow::openTrainingWizard);
  train->setObjectName("trainConceptAction");
  train->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
  auto* report = conceptMenu->addAction(tr("&Fairness report..."), this, &MainWindow::openReport);
  report->setObjectName("fairnessReportAction");
  report->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
  conceptMenu->addAction(tr("&Reload the concept library"), this, [this] {
    const auto request = form_->request();
    QMetaObject::invokeMethod(worker_, [w = worker_, request] { w->refreshConcepts(request.width, request.height); },
                              Qt::QueuedConnection);
  });

  auto* viewMenu = menuBar()->addMenu(tr("&View"));
  viewMenu->addAction(historyDock_->toggleViewAction());
  auto* zoomIn = viewMenu->addAction(tr("Zoom &in"), this, [this] {
    comparison_->setZoom(comparison_->zoom() > 0 ? comparison_->zoom() * 2 : 2);
  });
  zoomIn->setShortcut(QKeySequence::ZoomIn);
  auto* zoomOut = viewMenu->addAction(tr("Zoom &out"), this, [this] {
    comparison_->setZoom(comparison_->zoom() > 0 ? comparison_->zoom() / 2 : 1);
  });
  zoomOut->setShortcut(QKeySequence::ZoomOut);
  auto* fit = viewMenu->addAction(tr("&Fit"), this, [this] { comparison_->setZoom(0); });
  fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));

  auto* helpMenu = menuBar()->addMenu(tr("&Help"));
  helpMenu->addAction(tr("&About RespoDiff Studio"), this, &MainWindow::showAbout);
}

QString MainWindow::prompt() const { return form_->prompt(); }

void MainWindow::openTrainingWizard() {
  if (!wizard_) {
    wizard_ = new TrainingWizard(worker_, model_, this);
    connect(wizard_, &TrainingWizard::modelRequested, this, &MainWindow::openModel);
    connect(wizard_, &TrainingWizard::moduleSaved, this, [this](const QString& file) {
      statusBar()->showMessage(tr("Trained %1; it is in the concept panel").arg(QFileInfo(file).fileName()), 8000);
    });
    connect(this, &MainWindow::modelReady, wizard_, &TrainingWizard::setCurrentModel);
  }
  wizard_->refreshUnfinished();
  wizard_->show();
  wizard_->raise();
  wizard_->activateWindow();
}

void MainWindow::openReport() {
  if (!report_) report_ = new ReportDialog(worker_, this);
  if (!report_->isRunning()) {
    report_->setConcepts(conceptList_, concepts_->enabledConcepts());
    report_->setGroups(concepts_->groupOptions());
  }
  report_->show();
  report_->raise();
  report_->activateWindow();
}

void MainWindow::openModel(const QString& path) {
  loadingModel_ = path;
  statusBar()->showMessage(tr("Loading %1...").arg(QFileInfo(path).fileName()));
  QMetaObject::invokeMethod(worker_, [w = worker_, path] { w->loadModel(path); }, Qt::QueuedConnection);
}

void MainWindow::onModelLoaded(const QString& path, const QString& description, int nativeSize, int sizeStep) {
  model_ = path;
  loadingModel_.clear();
  picker_->setCurrentModel(path);
  form_->setModelGeometry(nativeSize, sizeStep);
  const bool embedded = QDir::cleanPath(path) ==
                        QDir::cleanPath(QString::fromStdString(respo::gpu::GenerationService::defaultModelPath().string()));
  modelLabel_->setText(embedded ? tr("Toy world: %1").arg(description) : description);
  statusBar()->showMessage(tr("Model loaded: %1").arg(description), 5000);
  lastResult_.reset();  // a new model: the next concept edit must not re-render an old picture
  announceReady_ = true;  // once the concept list for it arrives
  updateBusyState();
}

void MainWindow::onModelLoadFailed(const QString& path, const QString& message) {
  loadingModel_.clear();
  picker_->refresh();
  const QString kept = model_.isEmpty() ? tr("No model is loaded.") : tr("Still using %1.").arg(QFileInfo(model_).fileName());
  statusBar()->showMessage(tr("Could not open %1").arg(QFileInfo(path).fileName()), 8000);
  showError(tr("Cannot open the model"), tr("%1\n\n%2").arg(message, kept));
}

void MainWindow::generate() {
  if (model_.isEmpty()) {
    statusBar()->showMessage(tr("Open a model first (\"Open model...\")."), 5000);
    return;
  }
  form_->advanceSeed();
  enqueue(currentJob(), false);
}

respo::gpu::GenerationJob MainWindow::currentJob() const {
  respo::gpu::GenerationJob job;
  job.request = form_->request();
  job.concepts = concepts_->enabledConcepts();
  job.groups = concepts_->groupOptions();
  return job;
}

int MainWindow::enqueue(const respo::gpu::GenerationJob& job, bool live) {
  const int id = worker_->enqueue(job);
  if (live) liveJobs_.insert(id);
  const QString prompt = QString::fromStdString(job.request.prompt);
  history_->addQueued(id, live ? tr("re-render of %1").arg(prompt) : prompt);
  return id;
}

void MainWindow::cancel() {
  if (!isBusy() && queuedJobs_ == 0) return;
  progressLabel_->setText(tr("Cancelling..."));
  liveUpdatePending_ = false;
  worker_->cancelAll();
}

void MainWindow::onConceptsEdited() {
  // Only the responsible side changes, so a re-render is cheap: the worker reuses the baseline.
  if (!liveUpdate_->isChecked() || !lastResult_ || model_.isEmpty()) return;
  if (isBusy() || queuedJobs_ > 0) {
    liveUpdatePending_ = true;  // rendered when the running job ends, with the settings of then
    return;
  }
  liveUpdatePending_ = false;
  enqueue(currentJob(), true);
}

void MainWindow::onStepProgressed(int id, int step, int total, const QImage& preview, double iterationsPerSecond) {
  if (id != runningJob_) return;
  progress_->setRange(0, total);
  progress_->setValue(step);
  QString text = tr("Step %1/%2").arg(step).arg(total);
  if (iterationsPerSecond > 0) {
    const double eta = (total - step) / iterationsPerSecond;
    text += tr(" · %1 it/s · ETA %2 s").arg(iterationsPerSecond, 0, 'f', 1).arg(eta, 0, 'f', eta < 10 ? 1 : 0);
  }
  progressLabel_->setText(text);
  if (!preview.isNull()) comparison_->setPreview(preview, previewOnResponsibleSide_);
}

void MainWindow::onJobFinished(int id, const JobResult& result) {
  comparison_->setImages(result.baseline, result.responsible);
  lastResult_ = result;
  HistoryEntry entry{result.parameters, {}, result.baseline, result.responsible};
  if (autosave() && !liveJobs_.contains(id)) {
    try {
      const QStringList files = writeResult(result, nextAutosavePath(result));
      entry.file = files.value(0);
      Q_EMIT imagesSaved(files);
    } catch (const std::exception& e) {
      showError(tr("Cannot save the images"), tr("%1\n\nSaving every generation is now off; choose another output "
                                                 "folder in the File menu.").arg(QString::fromUtf8(e.what())));
      setAutosave(false);
    }
  }
  history_->addEntry(entry);
  QString status = tr("Done in %1 s").arg(result.seconds, 0, 'f', 1);
  if (result.baselineFromCache) status += tr(" (baseline reused)");
  if (result.responsibleIsBaseline) status += tr(" (no concept enabled: both sides are the baseline)");
  if (!result.members.isEmpty() && !result.members.front().isEmpty())
    status += tr(" · members: %1").arg(result.members.join(" | "));
  onJobEnded(id, status);
  Q_EMIT resultShown(result);
  if (liveUpdatePending_ && !isBusy() && queuedJobs_ == 0) onConceptsEdited();
}

void MainWindow::onJobEnded(int id, const QString& status) {
  if (id == runningJob_) runningJob_ = 0;
  history_->removeJob(id);
  liveJobs_.remove(id);
  progress_->setRange(0, 1);
  progress_->setValue(status == tr("Cancelled") ? 0 : 1);
  progressLabel_->setText(status);  // (the status bar's message area stays free for other notes)
  updateBusyState();
}

void MainWindow::updateBusyState() {
  const bool busy = isBusy() || queuedJobs_ > 0;
  cancelButton_->setEnabled(busy);
  cancelAction_->setEnabled(busy);
  generateButton_->setText(busy ? tr("Queue another") : tr("Generate"));
  saveAction_->setEnabled(lastResult_.has_value());
  exportSheetAction_->setEnabled(lastResult_.has_value());
  if (busy != wasBusy_) {
    wasBusy_ = busy;
    Q_EMIT busyChanged(busy);
  }
}

bool MainWindow::saveImages(const QString& path) {
  if (!lastResult_) {
    showError(tr("Nothing to save"), tr("Generate an image first."));
    return false;
  }
  try {
    writeResult(*lastResult_, path);
  } catch (const std::exception& e) {
    showError(tr("Cannot save the images"), QString::fromUtf8(e.what()));
    return false;
  }
  statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 5000);
  return true;
}

QStringList MainWindow::writeResult(const JobResult& r, const QString& path) const {
  namespace fs = std::filesystem;
  const fs::path target = path.toStdString();
  QStringList written;
  for (int i = 0; i < r.responsible.size(); ++i) {
    fs::path file = target;
    if (r.responsible.size() > 1)
      file = target.parent_path() / (target.stem().string() + "-" + std::to_string(i) + target.extension().string());
    respo::io::writePng(file, fromQImage(r.responsible[i]), {{"parameters", r.parameters.toStdString()}});
    if (!r.responsibleIsBaseline) {
      const fs::path baseline = file.parent_path() / (file.stem().string() + "-baseline" + file.extension().string());
      respo::io::writePng(baseline, fromQImage(r.baseline[i]), {{"parameters", r.baselineParameters.toStdString()}});
    }
    written << QString::fromStdString(file.string());
  }
  return written;
}

QString MainWindow::nextAutosavePath(const JobResult& result) const {
  QDir().mkpath(outputFolder_);
  const QString stem = QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss") + "-" + QString::number(result.request.seed);
  QString path = QDir(outputFolder_).filePath(stem + ".png");
  for (int n = 2; QFileInfo::exists(path) || QFileInfo::exists(QDir(outputFolder_).filePath(QFileInfo(path).completeBaseName() + "-0.png")); ++n)
    path = QDir(outputFolder_).filePath(stem + "-" + QString::number(n) + ".png");
  return path;
}

bool MainWindow::autosave() const { return autosaveAction_->isChecked(); }

void MainWindow::setAutosave(bool on) { autosaveAction_->setChecked(on); }

QString MainWindow::defaultOutputFolder() {
  QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
  if (pictures.isEmpty()) pictures = QDir::homePath();
  return QDir(pictures).filePath("RespoDiff");
}

void MainWindow::setOutputFolder(const QString& folder) {
  if (folder.isEmpty() || QDir::cleanPath(folder) == QDir::cleanPath(outputFolder_)) return;
  outputFolder_ = folder;
  history_->addFolder(folder);
  statusBar()->showMessage(tr("Saving to %1").arg(QDir::toNativeSeparators(folder)), 5000);
}

void MainWindow::chooseOutputFolder() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Output folder"), outputFolder_);
  if (!folder.isEmpty()) setOutputFolder(folder);
}

bool MainWindow::restoreFromFile(const QString& path) {
  const HistoryEntry entry = HistoryPanel::readFile(path);
  if (entry.responsible.isEmpty()) {
    showError(tr("Cannot restore the settings"), tr("%1 is not a readable PNG image.").arg(QDir::toNativeSeparators(path)));
    return false;
  }
  if (entry.parameters.isEmpty()) {
    showError(tr("Cannot restore the settings"),
              tr("%1 carries no generation parameters (it was not saved by RespoDiff Studio or another Stable "
                 "Diffusion front end).").arg(QDir::toNativeSeparators(path)));
    return false;
  }
  return restoreEntry(entry);
}

bool MainWindow::restoreEntry(const HistoryEntry& entry) {
  std::map<std::string, std::string> extra;
  respo::pipeline::GenerationRequest request;
  respo::concepts::ConceptParameters concepts;
  try {
    request = respo::pipeline::parseParameters(entry.parameters.toStdString(), &extra);
    concepts = respo::concepts::parseConceptParameters(extra);
  } catch (const std::exception& e) {
    showError(tr("Cannot restore the settings"), QString::fromUtf8(e.what()));
    return false;
  }
  form_->setRequest(request);
  const QStringList missing = concepts_->applyParameters(concepts);
  QStringList notes;
  if (!missing.isEmpty()) notes << tr("not installed for this model: %1").arg(missing.join(", "));
  if (const auto model = extra.find("Model"); model != extra.end() && !model_.isEmpty() &&
                                              QString::fromStdString(model->second) != QFileInfo(model_).fileName())
    notes << tr("made with the model %1").arg(QString::fromStdString(model->second));
  if (!entry.responsible.isEmpty()) {
    comparison_->setImages(entry.baseline.isEmpty() ? entry.responsible : entry.baseline, entry.responsible);
    JobResult shown;
    shown.baseline = entry.baseline.isEmpty() ? entry.responsible : entry.baseline;
    shown.responsible = entry.responsible;
    shown.request = request;
    shown.parameters = entry.parameters;
    shown.responsibleIsBaseline = entry.baseline.isEmpty();
    lastResult_ = shown;
    updateBusyState();
  }
  statusBar()->showMessage(notes.isEmpty() ? tr("Settings restored") : tr("Settings restored; %1").arg(notes.join("; ")), 8000);
  return true;
}

void MainWindow::restoreFromFileDialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Restore settings from an image"), outputFolder_,
                                                    tr("PNG images (*.png)"));
  if (!path.isEmpty()) restoreFromFile(path);
}

bool MainWindow::exportComparisonSheet(const QString& path) {
  if (!lastResult_) {
    showError(tr("Nothing to export"), tr("Generate an image first."));
    return false;
  }
  const auto& r = *lastResult_;
  const QImage sheet = ComparisonView::comparisonSheet(r.baseline, r.responsible, r.parameters, r.members);
  try {
    respo::io::writePng(path.toStdString(), fromQImage(sheet), {{"parameters", r.parameters.toStdString()}});
  } catch (const std::exception& e) {
    showError(tr("Cannot export the comparison sheet"), QString::fromUtf8(e.what()));
    return false;
  }
  statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 5000);
  return true;
}

void MainWindow::exportComparisonSheetDialog() {
  if (!lastResult_) return;
  QString path = QFileDialog::getSaveFileName(this, tr("Export comparison sheet"),
                                              QDir(outputFolder_).filePath("comparison.png"), tr("PNG images (*.png)"));
  if (path.isEmpty()) return;
  if (!path.endsWith(".png", Qt::CaseInsensitive)) path += ".png";
  exportComparisonSheet(path);
}

void MainWindow::loadSettings() {
  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
  splitter_->restoreState(settings.value("window/splitter").toByteArray());
  outputFolder_ = settings.value("output/folder", defaultOutputFolder()).toString();
  autosaveAction_->setChecked(settings.value("output/autosave", true).toBool());
  liveUpdate_->setChecked(settings.value("view/liveUpdate", true).toBool());
}

void MainWindow::saveSettings() const {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  settings.setValue("window/splitter", splitter_->saveState());
  settings.setValue("output/folder", outputFolder_);
  settings.setValue("output/autosave", autosave());
  settings.setValue("view/liveUpdate", liveUpdate_->isChecked());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveSettings();
  QMainWindow::closeEvent(event);
}

namespace {
QString droppedPng(const QMimeData* mime) {
  if (!mime || !mime->hasUrls()) return {};
  for (const auto& url : mime->urls())
    if (url.isLocalFile() && url.toLocalFile().endsWith(".png", Qt::CaseInsensitive)) return url.toLocalFile();
  return {};
}
}  // namespace

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (!droppedPng(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QString path = droppedPng(event->mimeData());
  if (path.isEmpty()) return;
  event->acceptProposedAction();
  restoreFromFile(path);
}

void MainWindow::save() {
  if (!lastResult_) return;
  QString path = QFileDialog::getSaveFileName(this, tr("Save images"), QStringLiteral("respodiff.png"),
                                              tr("PNG images (*.png)"));
  if (path.isEmpty()) return;
  if (!path.endsWith(".png", Qt::CaseInsensitive)) path += ".png";
  saveImages(path);
}

void MainWindow::showError(const QString& title, const QString& message) {
  // Non-modal: the app keeps running (and tests can observe the box and errorShown).
  auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
  box->setObjectName("errorBox");
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setModal(false);
  box->show();
  Q_EMIT errorShown(title, message);
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About RespoDiff Studio"),
                     tr("<b>RespoDiff Studio %1</b><p>Responsible and faithful text-to-image generation "
                        "with dual-module bottleneck transformations (RespoDiff, NeurIPS 2025).</p>"
                        "<p>Compute device: %2</p>")
                         .arg(info_.version, info_.computeDevice));
}

}  // namespace respo::ui
