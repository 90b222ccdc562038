#pragma once
// Which model to generate with: the embedded default, recently used models (kept in QSettings) and
// "Open model..." for a diffusers folder or a single-file .safetensors checkpoint. It only asks for
// a model (modelRequested); the window loads it and reports back with setCurrentModel.
#include <QStringList>
#include <QWidget>

class QComboBox;
class QToolButton;

namespace respo::ui {

class ModelPicker : public QWidget {
  Q_OBJECT
 public:
  explicit ModelPicker(const QString& defaultModel, QWidget* parent = nullptr);

  // The model that is loaded now: it goes to the top of the recent list and is selected.
  void setCurrentModel(const QString& path);
  QString currentModel() const { return current_; }
  QString defaultModel() const { return default_; }
  QStringList recentModels() const;
  // The model to load on start: the last one used, else the embedded default.
  QString startupModel() const;
  // Shows the current model again (after a failed load of another one).
  void refresh();

 public Q_SLOTS:
  void openFolder();
  void openFile();

 Q_SIGNALS:
  void modelRequested(const QString& path);

 private:
  QString default_;
  QString current_;
  QComboBox* combo_ = nullptr;
  QToolButton* open_ = nullptr;
};

}  // namespace respo::ui
