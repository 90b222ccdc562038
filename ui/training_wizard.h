#pragma once
// The training wizard: teaches the app a new responsible concept without a terminal.
//   1. Concept: kind (fairness group member or safety), name, group, preset, base model; or resume a
//      run that was stopped earlier (also in an earlier session: its checkpoint is on disk).
//   2. Prompts: neutral and target prompt lists (pasted, or imported from .txt/.csv) and, for
//      safety, the unsafe concept.
//   3. Settings: every hyper-parameter of the preset, editable, each explained in one line.
//   4. Training: runs on the app's worker; live loss chart, previews, ETA; pause, resume, cancel.
// The module is saved atomically into the user's concept library and the main window lists it at
// once. The wizard computes nothing itself: it builds a TrainingJob and shows what comes back.
// Each page is its own class (ui/wizard_*_page.h); the wizard moves the settings between them.
#include <QWizard>
#include <optional>

#include "ui/generation_worker.h"

namespace respo::ui {

class ConceptDefinitionPage;
class PromptListsPage;
class TrainingSettingsPage;
class TrainingRunPage;

class TrainingWizard : public QWizard {
  Q_OBJECT
 public:
  enum Page { ConceptPage, PromptsPage, SettingsPage, TrainingPage };

  // `currentModel`: the model the main window has loaded (the default base model).
  TrainingWizard(GenerationWorker* worker, QString currentModel, QWidget* parent = nullptr);
  ~TrainingWizard() override;

  // The settings as the pages describe them now.
  respo::concepts::ConceptSettings settings() const;
  // Fills every page from settings (a preset, or a run being resumed).
  void applySettings(const respo::concepts::ConceptSettings& settings);
  // The job the Train button starts (output in the user's library, checkpoint beside it).
  respo::gpu::TrainingJob trainingJob() const;

  bool isTraining() const { return taskId_ != 0; }
  // The module written by the finished run (empty before).
  QString savedModule() const { return savedModule_; }
  void setCurrentModel(const QString& path);

 public Q_SLOTS:
  void startTraining();  // also resumes a paused or earlier run from its checkpoint
  void pauseTraining();  // stops at the next step; the checkpoint keeps the run
  void refreshUnfinished();
  void resumeSelected();
  void discardSelected();  // deletes the selected unfinished run's checkpoint (after asking)
  void reject() override;  // stops a running training (keeping its checkpoint) before closing

 public:
  bool validateCurrentPage() override;  // explains (in a message box) what a page still needs

 Q_SIGNALS:
  // A module was trained and saved (the main window re-reads the library).
  void moduleSaved(const QString& file);
  void trainingStateChanged(bool training);
  // The base model differs from the main window's: it should load it (before the run starts).
  void modelRequested(const QString& path);

 private:
  void onProgress(int id, const TrainingStatus& status);
  void onFinished(int id, const TrainingResult& result);
  void onEnded(int id, const QString& message, bool failed);
  void updateButtons();
  QString outputFile(const respo::concepts::ConceptSettings& settings) const;

  GenerationWorker* worker_;
  QString currentModel_;
  int taskId_ = 0;
  bool pausing_ = false;
  bool finished_ = false;
  QString savedModule_;
  std::optional<QString> resumeOutput_;  // a run resumed from the unfinished list keeps its file

  ConceptDefinitionPage* concept_ = nullptr;
  PromptListsPage* prompts_ = nullptr;
  TrainingSettingsPage* settings_ = nullptr;
  TrainingRunPage* run_ = nullptr;
};

}  // namespace respo::ui
