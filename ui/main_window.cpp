#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QFormLayout>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QStatusBar>
#include <QVBoxLayout>

namespace respo::ui {

MainWindow::MainWindow(AppInfo info, QWidget* parent) : QMainWindow(parent), info_(std::move(info)) {
  setWindowTitle(tr("RespoDiff Studio"));
  setObjectName("mainWindow");
  resize(1100, 720);

  auto* central = new QWidget(this);
  auto* layout = new QFormLayout(central);
  promptEdit_ = new QPlainTextEdit(central);
  promptEdit_->setObjectName("promptEdit");
  promptEdit_->setPlaceholderText(tr("Describe the image, e.g. \"a photo of a doctor\""));
  promptEdit_->setMaximumHeight(90);
  layout->addRow(tr("Prompt"), promptEdit_);
  setCentralWidget(central);

  auto* fileMenu = menuBar()->addMenu(tr("&File"));
  auto* quit = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);
  auto* helpMenu = menuBar()->addMenu(tr("&Help"));
  helpMenu->addAction(tr("&About RespoDiff Studio"), this, &MainWindow::showAbout);

  deviceLabel_ = new QLabel(info_.computeDevice, this);
  deviceLabel_->setObjectName("deviceLabel");
  statusBar()->addPermanentWidget(deviceLabel_);
  statusBar()->showMessage(tr("Ready"));
}

QString MainWindow::prompt() const { return promptEdit_->toPlainText(); }

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About RespoDiff Studio"),
                     tr("<b>RespoDiff Studio %1</b><p>Responsible and faithful text-to-image generation "
                        "with dual-module bottleneck transformations (RespoDiff, NeurIPS 2025).</p>"
                        "<p>Compute device: %2</p>")
                         .arg(info_.version, info_.computeDevice));
}

}  // namespace respo::ui
