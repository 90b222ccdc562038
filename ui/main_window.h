#pragma once
// The studio's main window: the generation workspace. Parameters and concepts on the left, the
// baseline | responsible comparison on the right, progress in the status bar. The window wires the
// widgets' intents to the background worker and shows what comes back; it computes nothing itself.
#include <QElapsedTimer>
#include <QMainWindow>
#include <QPointer>
#include <QSet>
#include <QString>
#include <memory>
#include <optional>

#include "ui/method_grid_dialog.h"
#include "ui/generation_worker.h"
#include "ui/history_panel.h"
#include "ui/report_dialog.h"
#include "ui/training_wizard.h"

class QAction;
class QCheckBox;
class QDockWidget;
class QSplitter;
class QLabel;
class QProgressBar;
class QPushButton;

namespace respo::ui {

class ComparisonView;
class ConceptPanel;
class MethodsBox;
class MethodGridDialog;
class ModelPicker;
class ParameterForm;

struct AppInfo {
  QString version;
  QString computeDevice;  // e.g. "CPU (2 threads), float32"
  QString initialModel;   // empty: the last model used, else the embedded default
  bool loadModelOnStart = true;
  QString outputFolder;   // empty: the one in the settings, else <Pictures>/RespoDiff
};

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  // The window runs its jobs on `engine` (gpu/engine.h); none: the generation service's engine.
  explicit MainWindow(AppInfo info, std::unique_ptr<respo::gpu::Engine> engine = {}, QWidget* parent = nullptr);
  ~MainWindow() override;
  // Re-reads the concept edits in the library folders' edits/ (also done when the library is listed).
  void refreshConceptEdits();

  QString prompt() const;
  GenerationWorker* worker() const { return worker_; }
  ParameterForm* parameterForm() const { return form_; }
  ConceptPanel* conceptPanel() const { return concepts_; }
  MethodsBox* methodsBox() const { return methods_; }
  ComparisonView* comparisonView() const { return comparison_; }
  HistoryPanel* history() const { return history_; }
  TrainingWizard* trainingWizard() const { return wizard_; }  // null until opened
  ReportDialog* reportDialog() const { return report_; }      // null until opened
  MethodGridDialog* methodGrid() const { return grid_; }      // null until opened
  bool isBusy() const { return runningJob_ != 0; }
  QString currentModel() const { return model_; }
  const std::optional<JobResult>& lastResult() const { return lastResult_; }
  // Where every generation is saved (when autosave is on) and whose pictures the gallery lists.
  QString outputFolder() const { return outputFolder_; }
  bool autosave() const;
  static QString defaultOutputFolder();

 public Q_SLOTS:
  void openModel(const QString& path);
  void generate();
  void cancel();
  // Writes the responsible images with their "parameters" text (and the baselines beside them as
  // <name>-baseline.png). Returns false (after showing why) when nothing can be saved.
  bool saveImages(const QString& path);
  void save();
  void showAbout();
  // Restores prompt, settings and concepts from a saved PNG's "parameters" text (and shows its
  // images). False, after showing why, for a file without generation parameters.
  bool restoreFromFile(const QString& path);
  bool restoreEntry(const respo::ui::HistoryEntry& entry);
  void restoreFromFileDialog();
  // One PNG with the last result's baseline and responsible images side by side and its settings.
  bool exportComparisonSheet(const QString& path);
  void exportComparisonSheetDialog();
  void setOutputFolder(const QString& folder);
  void chooseOutputFolder();
  void setAutosave(bool on);
  // The training wizard and the fairness report (non-modal; one of each).
  void openTrainingWizard();
  void openReport();
  // Compare methods > Methods x seeds grid: the current settings with each chosen method.
  void openMethodGrid();

 Q_SIGNALS:
  // Every error the window shows (a non-modal message box) is also announced here.
  void errorShown(const QString& title, const QString& message);
  // A job's images are on screen (lastResult() holds them).
  void resultShown(const respo::ui::JobResult& result);
  // A job is running or queued (true), or none is (false).
  void busyChanged(bool busy);
  // A model finished loading and the concept panel lists the modules for it.
  void modelReady(const QString& path);
  // A finished job's images were written (autosave) to these files.
  void imagesSaved(const QStringList& files);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildActions();
  void showError(const QString& title, const QString& message);
  void updateBusyState();
  void onModelLoaded(const QString& path, const QString& description, int nativeSize, int sizeStep);
  void onModelLoadFailed(const QString& path, const QString& message);
  void onStepProgressed(int id, int step, int total, const QImage& preview, double iterationsPerSecond);
  void onJobFinished(int id, const JobResult& result);
  void onJobEnded(int id, const QString& status);
  void onConceptsEdited();
  respo::gpu::GenerationJob currentJob() const;  // what the form and the concept panel ask for
  int enqueue(const respo::gpu::GenerationJob& job, bool live);
  // Writes a result's images (responsible at `path`, numbered for a batch, baselines beside them);
  // returns the responsible files. Throws on I/O errors.
  QStringList writeResult(const JobResult& result, const QString& path) const;
  QString nextAutosavePath(const JobResult& result) const;
  void loadSettings();
  void saveSettings() const;

  AppInfo info_;
  GenerationWorker* worker_ = nullptr;
  ModelPicker* picker_ = nullptr;
  ParameterForm* form_ = nullptr;
  ConceptPanel* concepts_ = nullptr;
  MethodsBox* methods_ = nullptr;
  ComparisonView* comparison_ = nullptr;
  HistoryPanel* history_ = nullptr;
  QDockWidget* historyDock_ = nullptr;
  QSplitter* splitter_ = nullptr;
  QAction* autosaveAction_ = nullptr;
  QAction* exportSheetAction_ = nullptr;
  QPushButton* generateButton_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  QCheckBox* liveUpdate_ = nullptr;
  QAction* generateAction_ = nullptr;
  QAction* cancelAction_ = nullptr;
  QAction* saveAction_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* progressLabel_ = nullptr;
  QLabel* modelLabel_ = nullptr;
  QLabel* deviceLabel_ = nullptr;

  QString model_;         // loaded
  QString loadingModel_;  // being loaded
  int runningJob_ = 0;
  int queuedJobs_ = 0;
  bool previewOnResponsibleSide_ = false;
  bool wasBusy_ = false;
  bool liveUpdatePending_ = false;  // concepts were edited while a job ran
  bool announceReady_ = false;      // modelReady is due once the concepts are listed
  QSet<int> liveJobs_;              // re-renders of concept edits (not autosaved)
  QString outputFolder_;
  std::optional<JobResult> lastResult_;
  ConceptList conceptList_;  // as the worker last listed them
  QPointer<TrainingWizard> wizard_;
  QPointer<ReportDialog> report_;
  QPointer<MethodGridDialog> grid_;
};

}  // namespace respo::ui
