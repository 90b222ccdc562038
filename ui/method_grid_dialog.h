#pragma once
// Methods x seeds: the same prompt and settings run with each chosen method (the plain model,
// the concept panel's RespoDiff modules, an SLD preset, a concept edit) for several seeds, shown as a
// grid (a row per seed, a column per method), so a user compares N methods at once. The jobs go
// through the main window's queue; their results fill the grid and nothing else (no history, no
// autosave).
#include <QDialog>
#include <QImage>
#include <QMap>
#include <functional>
#include <vector>

#include "core/respo/side_methods.h"
#include "gpu/generation_service.h"

class QGridLayout;
class QLabel;
class QListWidget;
class QPushButton;
class QSpinBox;

namespace respo::ui {

struct GridMethod {
  QString label;
  bool modules = false;                   // the concept panel's modules (RespoDiff)
  respo::responsible::SideMethods right;  // SLD, a concept edit
};

class MethodGridDialog : public QDialog {
  Q_OBJECT
 public:
  // `enqueue` submits a job and returns its id (0 when it could not be queued).
  explicit MethodGridDialog(std::function<int(const respo::gpu::GenerationJob&)> enqueue, QWidget* parent = nullptr);

  // The methods offered (all checked but the ones after the fourth).
  void setMethods(const std::vector<GridMethod>& methods);
  // The settings "Run grid" uses (the main window's form and concept panel when the grid opened).
  void setBase(const respo::gpu::GenerationJob& base) { base_ = base; }
  // Starts a grid for the checked methods and `seeds` seeds from `base` (its seed, seed + 1, ...).
  // Returns the number of jobs queued.
  int start(const respo::gpu::GenerationJob& base, int seeds);
  bool owns(int id) const { return cells_.contains(id); }
  void addResult(int id, const QImage& image);
  void addFailure(int id, const QString& message);
  int pending() const { return pending_; }
  // The image of a cell (null until its job is done); the labels of the grid's columns.
  QImage cell(int seedRow, int methodColumn) const;
  QStringList columnLabels() const { return columns_; }

 Q_SIGNALS:
  void gridFinished();

 private:
  void startFromForm();
  void place(int id, QWidget* widget);

  std::function<int(const respo::gpu::GenerationJob&)> enqueue_;
  std::vector<GridMethod> methods_;
  QListWidget* list_;
  QSpinBox* seeds_;
  QPushButton* startButton_;
  QGridLayout* grid_;
  QWidget* gridHost_;
  QStringList columns_;
  QMap<int, QPair<int, int>> cells_;  // job id -> (row, column)
  QMap<QPair<int, int>, QImage> images_;
  int pending_ = 0;
  respo::gpu::GenerationJob base_;
};

}  // namespace respo::ui
