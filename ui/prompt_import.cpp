#include "ui/prompt_import.h"

#include <QFileDialog>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QStringList>

#include "core/common/error.h"
#include "core/respo/prompt_list.h"

namespace respo::ui {

bool importPromptList(QWidget* parent, QPlainTextEdit* target) {
  const QString file = QFileDialog::getOpenFileName(parent, QObject::tr("Import prompts"), {},
                                                    QObject::tr("Prompt lists (*.txt *.csv);;All files (*)"));
  if (file.isEmpty()) return false;
  try {
    const auto prompts = respo::concepts::readPromptList(file.toStdString());
    if (prompts.empty()) throw respo::InvalidArgument(file.toStdString() + " holds no prompts");
    QStringList lines;
    for (const auto& p : prompts) lines << QString::fromStdString(p);
    target->setPlainText(lines.join('\n'));
    return true;
  } catch (const std::exception& e) {
    QMessageBox::warning(parent, QObject::tr("Import prompts"), QString::fromUtf8(e.what()));
    return false;
  }
}

}  // namespace respo::ui
