#pragma once
// The fairness and safety report dialog: pick prompts (built-in sets such as WinoBias's professions
// with the paper's templates, or a pasted/imported list), images per prompt, concept modules and the
// methods to compare (RespoDiff, SLD presets, a negative prompt, concept edits), or one knob to sweep;
// the worker generates each prompt once plainly and once per method (same seeds and noise), reads
// attributes and unsafe content off every image and the dialog shows a column group per method,
// per-prompt histograms, DevRat, unsafe rates and alignment with intervals, a sweep's trade-off
// chart, exportable as CSV, JSON and the audit card. Attributes are read by the toy world's
// classifier on the embedded model, or by a user-supplied CLIP model (zero-shot, as the paper does)
// on real models; NudeNet reads nudity when the setup fetched it.
#include <QDialog>
#include <optional>

#include "ui/generation_worker.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTabWidget;

namespace respo::ui {

class HistogramChart;
class TradeoffChart;

class ReportDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ReportDialog(GenerationWorker* worker, QWidget* parent = nullptr);
  ~ReportDialog() override;

  // The modules the dialog offers (those that fit the loaded model), and which start checked with
  // which RAM/SAM strengths (the main window's; empty keeps the dialog's own choice).
  void setConcepts(const ConceptList& concepts, const respo::concepts::Selection& enabled);
  // How each fairness group picks its member per image (the main window's choice).
  void setGroups(const std::map<std::string, respo::concepts::GroupOptions>& groups);
  // The concept edits the methods list offers (files that read).
  void setEdits(const std::vector<respo::responsible::EditInfo>& edits);
  // The job Run starts.
  respo::gpu::ReportJob reportJob() const;
  const std::optional<ReportResult>& result() const { return result_; }
  bool isRunning() const { return taskId_ != 0; }

 public Q_SLOTS:
  void run();
  void cancelRun();
  bool exportCsv(const QString& path);
  bool exportJson(const QString& path);
  // The audit card (core/respo/audit_card.h) of the report on screen: identity, the modules with
  // their hashes, the tables with intervals; no example images (the command line's --html has them).
  bool exportAuditCard(const QString& path);
  void showPrompt(int row);  // the histogram of one prompt of the result (of the chosen method)
  void reject() override;    // cancels a running report

 Q_SIGNALS:
  void reportShown();  // a finished report is on screen


 private:
  void onPromptSetChosen(int index);
  void onFinished(int id, const ReportResult& report);
  void onEnded(int id, const QString& message, bool failed);
  void showResult();
  void showSummary();
  void showTable();
  void showTradeoff();
  bool exportTo(const QString& path, bool json);
  // The checked methods, or the sweep's settings; sets `problem` when they cannot run.
  std::vector<respo::gpu::ReportMethodChoice> methodChoices(bool& sweep, QString& problem) const;

  GenerationWorker* worker_;
  int taskId_ = 0;
  std::optional<ReportResult> result_;
  std::optional<respo::gpu::ReportJob> ranJob_;  // the job whose result is on screen (or running)
  std::map<std::string, respo::concepts::GroupOptions> groups_;
  std::map<std::filesystem::path, respo::concepts::SelectedModule> strengths_;  // by module file
  std::map<std::filesystem::path, respo::concepts::ModuleIdentity> identities_;  // of the listed modules
  QLabel* groupsLabel_ = nullptr;

  QComboBox* promptSet_ = nullptr;
  QPlainTextEdit* prompts_ = nullptr;
  QSpinBox* images_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QListWidget* concepts_ = nullptr;
  QLineEdit* clipFolder_ = nullptr;
  QCheckBox* nudenet_ = nullptr;
  QListWidget* methods_ = nullptr;
  QLineEdit* negativeText_ = nullptr;
  QCheckBox* sweep_ = nullptr;
  QComboBox* sweepKnob_ = nullptr;
  QLineEdit* sweepValues_ = nullptr;
  QPushButton* runButton_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  QPushButton* csvButton_ = nullptr;
  QPushButton* jsonButton_ = nullptr;
  QPushButton* cardButton_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* summary_ = nullptr;
  QTableWidget* table_ = nullptr;
  QComboBox* attribute_ = nullptr;
  QComboBox* histogramMethod_ = nullptr;
  HistogramChart* chart_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  TradeoffChart* tradeoffChart_ = nullptr;
  QComboBox* tradeoffMetric_ = nullptr;
  QTableWidget* tradeoffTable_ = nullptr;
};

}  // namespace respo::ui
