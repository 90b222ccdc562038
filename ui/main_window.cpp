#include "ui/main_window.h"

#include "core/common/paths.h"
#include "ui/method_grid_dialog.h"
#include "ui/methods_box.h"

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
#include <QTabWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QVBoxLayout>
#include <filesystem>

#include "core/common/error.h"
#include "core/io/image.h"
#include "core/io/picture_files.h"
#include "core/pipeline/generation_parameters.h"
#include "core/respo/selection.h"
#include "ui/comparison_view.h"
#include "ui/concept_panel.h"
#include "ui/model_picker.h"
#include "ui/parameter_form.h"
#include "ui/report_dialog.h"
#include "ui/training_wizard.h"

namespace respo::ui {

MainWindow::MainWindow(AppInfo info, std::unique_ptr<respo::gpu::Engine> engine, QWidget* parent)
    : QMainWindow(parent), info_(std::move(info)) {
  setWindowTitle(tr("RespoDiff Studio"));
  setObjectName("mainWindow");
  resize(1280, 860);

  worker_ = new GenerationWorker(engine ? std::move(engine) : respo::gpu::makeServiceEngine(), this);

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
  // Concepts and methods share one tabbed area, so the left column stays short on small screens.
  auto* sideTabs = new QTabWidget(left);
  sideTabs->setObjectName("sideTabs");
  auto* conceptPage = new QWidget(sideTabs);
  auto* conceptLayout = new QVBoxLayout(conceptPage);
  concepts_ = new ConceptPanel(conceptPage);
  conceptLayout->addWidget(concepts_);
  sideTabs->addTab(conceptPage, tr("Concepts"));
  auto* methodsPage = new QWidget(sideTabs);
  auto* methodsLayout = new QVBoxLayout(methodsPage);
  methods_ = new MethodsBox(methodsPage);
  methods_->setObjectName("methodsBox");
  methodsLayout->addWidget(methods_);
  methodsLayout->addStretch(1);
  sideTabs->addTab(methodsPage, tr("Methods"));
  leftLayout->addWidget(sideTabs, 1);
  comparison_ = new ComparisonView(this);
  splitter_ = new QSplitter(this);
  splitter_->setObjectName("mainSplitter");
  splitter_->addWidget(left);
  splitter_->addWidget(comparison_);
  splitter_->setStretchFactor(1, 1);
  splitter_->setSizes({540, 740});
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
  connect(methods_, &MethodsBox::edited, this, &MainWindow::onConceptsEdited);
  connect(form_, &ParameterForm::sizeChanged, worker_, &GenerationWorker::refreshConcepts);
  connect(worker_, &GenerationWorker::modelLoadProgressed, this, [this](const QString& s) { statusBar()->showMessage(s); });
  connect(worker_, &GenerationWorker::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(worker_, &GenerationWorker::modelLoadFailed, this, &MainWindow::onModelLoadFailed);
  connect(worker_, &GenerationWorker::conceptsChanged, this, [this](const ConceptList& concepts) {
    conceptList_ = concepts;
    concepts_->setConcepts(concepts);
    refreshConceptEdits();
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
  connect(worker_, &GenerationWorker::jobCancelled, this, [this](int id) {
    if (grid_ && grid_->owns(id)) grid_->addFailure(id, tr("cancelled"));
    onJobEnded(id, tr("Cancelled"));
  });
  connect(worker_, &GenerationWorker::jobFailed, this, [this](int id, const QString& message) {
    if (grid_ && grid_->owns(id)) {  // shown in its cell; no dialog per cell
      grid_->addFailure(id, message);
      onJobEnded(id, tr("Generation failed"));
      return;
    }
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
  worker_->shutdown();  // the engine's thread ends here; no signal comes after it
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
  auto* grid = conceptMenu->addAction(tr("Compare &methods (methods x seeds)..."), this, &MainWindow::openMethodGrid);
  grid->setObjectName("methodGridAction");
  grid->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M));
  conceptMenu->addAction(tr("&Reload the concept library"), this, [this] {
    const auto request = form_->request();
    worker_->refreshConcepts(request.width, request.height);
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
    report_->setConcepts(conceptList_, concepts_->selection());
    report_->setGroups(concepts_->groupOptions());
    report_->setEdits(methods_->edits());
  }
  report_->show();
  report_->raise();
  report_->activateWindow();
}

void MainWindow::openModel(const QString& path) {
  loadingModel_ = path;
  statusBar()->showMessage(tr("Loading %1...").arg(QFileInfo(path).fileName()));
  worker_->loadModel(path);  // queued on the engine ahead of any job asked for after this
}

void MainWindow::openMethodGrid() {
  if (!grid_) grid_ = new MethodGridDialog([this](const respo::gpu::GenerationJob& job) { return enqueue(job, true); }, this);
  std::vector<GridMethod> methods{{tr("plain model"), false, {}}};
  if (!concepts_->selection().empty()) methods.push_back({tr("RespoDiff (the panel's modules)"), true, {}});
  for (const auto& preset : respo::pipeline::SafeLatentGuidance::presetNames()) {
    GridMethod m{tr("SLD %1").arg(QString::fromStdString(preset)), false, {}};
    m.right.sld = respo::pipeline::SafeLatentGuidance::preset(preset);
    methods.push_back(m);
  }
  refreshConceptEdits();
  for (const auto& e : methods_->edits()) {
    if (!e.problem.empty()) continue;
    GridMethod m{tr("edit %1").arg(QString::fromStdString(e.name)), false, {}};
    m.right.conceptEdit = e.file;
    methods.push_back(m);
  }
  grid_->setMethods(methods);
  grid_->setBase(currentJob());  // the grid runs when the user asks
  grid_->show();
  grid_->raise();
}

void MainWindow::refreshConceptEdits() {
  // Files unchanged since the last look keep their hash: a restore does not re-read every edit.
  methods_->setEdits(respo::responsible::listEdits({respo::paths::userConcepts(), respo::paths::shippedConcepts()},
                                                   methods_->edits()));
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
