#pragma once
// Helpers for driving the studio's main window in GUI tests.
#include <QCoreApplication>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <memory>
#include <QTest>
#include <QAbstractItemModel>
#include <QTreeView>

#include "core/toyworld/report_extension.h"
#include "gpu/engine.h"
#include "ui/concept_panel.h"
#include "ui/main_window.h"

namespace respo::testing {

// Gives a GUI test its own user data, settings and settings organisation under `home`, so it
// never reads or writes the user's (or another test's) library and preferences.
inline void isolateUserFolders(const QTemporaryDir& home, const char* organization) {
  qputenv("XDG_DATA_HOME", home.filePath("data").toUtf8());
  qputenv("XDG_CONFIG_HOME", home.filePath("config").toUtf8());
  QCoreApplication::setOrganizationName(organization);
}

// Opens the main window (on the embedded model, saving to `outputFolder`), shows it and waits until
// the model is ready; null when that did not happen within `timeoutMs`.
// `engine`: none for the studio's own (the generation service with the toy world's report reader,
// as app/studio_main.cpp wires it); a fake one for widget tests (tests/support/fake_runner.h).
inline std::unique_ptr<respo::ui::MainWindow> openStudio(const QString& outputFolder, int timeoutMs,
                                                         std::unique_ptr<respo::gpu::Engine> engine = {},
                                                         const QString& model = {}) {
  respo::ui::AppInfo info{"test", "CPU, float32", model, true, outputFolder};
  if (!engine) engine = respo::gpu::makeServiceEngine({}, {respo::toyworld::reportExtension()});
  auto window = std::make_unique<respo::ui::MainWindow>(info, std::move(engine));
  QSignalSpy ready(window.get(), &respo::ui::MainWindow::modelReady);
  window->show();
  // (A fast engine may have announced the model while the window was being exposed.)
  if (!QTest::qWaitForWindowExposed(window.get()) || (ready.isEmpty() && !ready.wait(timeoutMs))) return nullptr;
  return window;
}

// Clicks Generate and waits until the window shows the job's result (an empty result on timeout).
// (The worker's own signals reach a QSignalSpy directly on the worker thread, before the window
// has seen them; resultShown comes after.)
inline respo::ui::JobResult generateByClick(respo::ui::MainWindow& window, int timeoutMs) {
  QSignalSpy shown(&window, &respo::ui::MainWindow::resultShown);
  QTest::mouseClick(window.findChild<QWidget*>("generateButton"), Qt::LeftButton);
  if (!QTest::qWaitFor([&] { return shown.count() == 1; }, timeoutMs)) return {};
  return shown.front().at(0).value<respo::ui::JobResult>();
}

// A row of the concept panel's model, used the way a test would use a tree item.
struct ConceptRow {
  QAbstractItemModel* model = nullptr;
  QPersistentModelIndex index;
  explicit operator bool() const { return model && index.isValid(); }
  const ConceptRow* operator->() const { return this; }
  QString text(int column) const { return index.sibling(index.row(), column).data().toString(); }
  QString toolTip(int column) const { return index.sibling(index.row(), column).data(Qt::ToolTipRole).toString(); }
  Qt::ItemFlags flags() const { return model->flags(index); }
  Qt::CheckState checkState(int column) const {
    return static_cast<Qt::CheckState>(index.sibling(index.row(), column).data(Qt::CheckStateRole).toInt());
  }
  // As a click on the check box does.
  void setCheckState(int column, Qt::CheckState state) const {
    model->setData(index.sibling(index.row(), column), state, Qt::CheckStateRole);
  }
  ConceptRow parent() const { return {model, index.parent()}; }
  int childCount() const { return model->rowCount(index); }
  ConceptRow child(int row) const { return {model, model->index(row, 0, index)}; }
};

// Every row of the concept panel whose name is `name` (modules that do not fit carry a suffix).
inline QList<ConceptRow> conceptRows(respo::ui::MainWindow& window, const QString& name) {
  auto* model = window.conceptPanel()->model();
  QList<ConceptRow> out;
  for (const auto& index : model->match(model->index(0, 0), Qt::DisplayRole, name, -1, Qt::MatchStartsWith | Qt::MatchRecursive)) {
    const QString text = index.data().toString();
    if (text == name || text.startsWith(name + " (")) out.append({model, index});
  }
  return out;
}

inline ConceptRow conceptItem(respo::ui::MainWindow& window, const QString& name) {
  const auto rows = conceptRows(window, name);
  return rows.isEmpty() ? ConceptRow{} : rows.front();
}

}  // namespace respo::testing
