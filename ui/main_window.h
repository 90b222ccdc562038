#pragma once
// The studio's main window. For now it holds the prompt editor and reports the compute device;
// generation, concepts and the comparison view arrive with the engine.
#include <QMainWindow>
#include <QString>

class QPlainTextEdit;
class QLabel;

namespace respo::ui {

struct AppInfo {
  QString version;
  QString computeDevice;  // e.g. "CPU (2 threads), float32"
};

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(AppInfo info, QWidget* parent = nullptr);
  QString prompt() const;

 public Q_SLOTS:
  void showAbout();

 private:
  AppInfo info_;
  QPlainTextEdit* promptEdit_ = nullptr;
  QLabel* deviceLabel_ = nullptr;
};

}  // namespace respo::ui
